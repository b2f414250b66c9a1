"""Per-user and global rate limits on incoming updates (`shopbot.bot.rate_limits`).

An outer update middleware, registered after `UpdateDedupeMiddleware` (inside it): a
redelivered or duplicate update is dropped there before it could take a second token,
and a limited update returns normally, so the dedupe marker says "done" and, in webhook
mode, Telegram gets a 2xx and does not redeliver it. Registered before
`PrivateChatsOnly` and the unit of work: a flood from a group is limited too, and a
refused update costs no database work (nobody is registered).

A message update counts as "message", a callback query as "operation"; payment service
messages (`successful_payment`, `refunded_payment`: real money to credit), pre-checkout
queries (Telegram waits 10 s for the answer) and other update types are never limited.
Starting an invoice is also limited as "payment", in the top-up and Stars routers.
The limiter itself allows every request when Redis fails (a warning is logged).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TelegramUser

from shopbot.bot.rate_limits.limiter import Category, RateLimiter
from shopbot.bot.rate_limits.notice import tell_limited
from shopbot.bot.texts import Texts, pick_language


def category_of(update: Update) -> Category | None:
    """The limit an update counts against; None for updates that are never limited."""
    message = update.message
    if message is not None:
        if message.successful_payment is not None or message.refunded_payment is not None:
            return None
        return Category.MESSAGE
    if update.callback_query is not None:
        return Category.OPERATION
    return None


class RateLimitMiddleware(BaseMiddleware):
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        category = category_of(event) if isinstance(event, Update) else None
        if category is None or sender is None or sender.is_bot:
            return await handler(event, data)
        limited = await self.limiter.check(sender.id, category)
        if limited is None:
            return await handler(event, data)
        assert isinstance(event, Update)
        target = event.message or event.callback_query
        assert target is not None  # category_of found one of them
        # Before registration: the language Telegram reports, not the stored choice.
        await tell_limited(target, limited, Texts(pick_language(sender.language_code)))
        return None
