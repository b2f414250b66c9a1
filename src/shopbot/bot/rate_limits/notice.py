"""What a limited user is told: "Too many requests, try again in N s", in their language."""

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message

from shopbot.bot.rate_limits.limiter import Category, Limited
from shopbot.bot.texts import Texts

log = logging.getLogger(__name__)


def notice_text(t: Texts, limited: Limited) -> str:
    payment = limited.category is Category.PAYMENT
    key = "rate_limit.payment_notice" if payment else "rate_limit.notice"
    return t(key, seconds=limited.retry_after_seconds)


async def tell_limited(event: Message | CallbackQuery, limited: Limited, t: Texts) -> None:
    """A callback query is answered every time, with the notice as a toast
    (`show_alert=False`): Telegram shows a spinner until a query is answered, and the
    answer is no chat message. A message gets the notice as a new message only on the
    first refusal of the window (`limited.notify`) and only in a private chat: a flood
    is not answered message by message, and a group hears nothing. A refusal by
    Telegram is logged, never raised: the update is dropped either way."""
    text = notice_text(t, limited)
    try:
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=False)
        elif limited.notify and event.chat.type == "private":
            await event.answer(text)
    except TelegramAPIError as error:
        log.info("rate limit notice not delivered: %s", error)
