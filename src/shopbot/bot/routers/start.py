from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopbot.bot.callbacks import LanguageCB, MenuCB, MenuTarget
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import languages, main_menu
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User


async def leave_dialog(
    state: FSMContext, raw_state: str | None, user: User | None, ctx: BotContext
) -> None:
    """Leave whatever dialog the user is in (support message, custom amount, ...).

    A customer's dialog data never outlives its state (each customer dialog ends with
    `clear()`), so a customer with no state has nothing to clear, and the two Redis
    round trips of `clear()` are spared on the commonest commands (bench/dispatch.py).
    Admin dialogs keep data without a state (a broadcast awaiting Confirm, pending money
    confirmations), so an admin's are always cleared."""
    if raw_state is not None or user is None or ctx.is_admin(user.id):
        await state.clear()


async def start(
    message: Message,
    user: User,
    t: Texts,
    state: FSMContext,
    raw_state: str | None,
    ctx: BotContext,
) -> None:
    await leave_dialog(state, raw_state, user, ctx)
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(t("start.welcome", name=name), reply_markup=main_menu(t))


async def help_(message: Message, t: Texts) -> None:
    await message.answer(t("help.text"), reply_markup=main_menu(t))


async def home(
    query: CallbackQuery,
    callback_data: MenuCB,
    t: Texts,
    state: FSMContext,
    raw_state: str | None,
    ctx: BotContext,
    user: User | None = None,
) -> None:
    await leave_dialog(state, raw_state, user, ctx)
    await show(query, t("menu.title"), main_menu(t), keep=callback_data.keep)


async def language_menu(
    event: Message | CallbackQuery, t: Texts, callback_data: MenuCB | None = None
) -> None:
    if isinstance(event, CallbackQuery):
        keep = callback_data is not None and callback_data.keep
        await show(event, t("language.choose"), languages(), keep=keep)
        return
    await event.answer(t("language.choose"), reply_markup=languages())


async def set_language(
    query: CallbackQuery, callback_data: LanguageCB, user: User, uow: UnitOfWork
) -> None:
    t = Texts(callback_data.code)
    await uow.users.set_language(user.id, t.language)
    await uow.commit()  # the answer below is in the new language: it must stick
    await query.answer(t("language.set"))
    if isinstance(query.message, Message):
        await query.message.edit_text(t("menu.title"), reply_markup=main_menu(t))


def build() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(language_menu, Command("language"))
    router.callback_query.register(home, MenuCB.filter(F.to == MenuTarget.HOME))
    router.callback_query.register(language_menu, MenuCB.filter(F.to == MenuTarget.LANGUAGE))
    router.callback_query.register(set_language, LanguageCB.filter())
    return router
