"""Last router: anything no other router took gets a short help, and stray buttons
(e.g. from an old message) are answered so the client stops its spinner."""

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from shopbot.bot.albums import first_in_album
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import main_menu
from shopbot.bot.texts import Texts


async def unknown_message(message: Message, t: Texts, ctx: BotContext) -> None:
    """One short help per message, and per album (its items arrive as separate updates)."""
    if not await first_in_album(ctx, message, "unknown"):
        return
    await message.answer(t("unknown.text"), reply_markup=main_menu(t))


async def unknown_button(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("unknown.text"), show_alert=False)


def build() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_message)
    router.callback_query.register(unknown_button)
    return router
