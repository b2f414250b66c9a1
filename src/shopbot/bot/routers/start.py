from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopbot.bot.callbacks import LanguageCB, MenuCB, MenuTarget
from shopbot.bot.keyboards import languages, main_menu
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User


async def start(message: Message, user: User, t: Texts, state: FSMContext) -> None:
    await state.clear()  # /start leaves any dialog (support message, custom amount, ...)
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(t("start.welcome", name=name), reply_markup=main_menu(t))


async def help_(message: Message, t: Texts) -> None:
    await message.answer(t("help.text"), reply_markup=main_menu(t))


async def home(query: CallbackQuery, callback_data: MenuCB, t: Texts, state: FSMContext) -> None:
    await state.clear()
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
