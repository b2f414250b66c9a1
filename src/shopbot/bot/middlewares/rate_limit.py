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
On a single Redis server the user's own token is taken by `UpdateDedupeMiddleware`, in
the script that claims the update (`TAKEN`): the same token, one round trip fewer.

The global limit guards the shop's outgoing budget, not against any one user, so in
webhook mode an update it refuses is deferred, not dropped: `GlobalLimitReached` is
raised, the update's claim is released, and Telegram gets a non-2xx and delivers it
again later. After an outage Telegram redelivers what failed in a burst; dropping the
part of it beyond the limit lost customers' commands (found by the full-scale failure
drill, tests/docker/live/drills.py). In polling mode nothing would redeliver it, so it
is dropped with the notice, like a per-user refusal.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TelegramUser

from shopbot.bot.deferrals import UpdateDeferred
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


TAKEN = "rate_limit_taken"
"""Middleware data key: the verdict of the user's own token when `UpdateDedupeMiddleware`
took it with the update's claim (one script on a single Redis server); this middleware
then takes no second one."""


def limited_sender(event: TelegramObject, data: dict[str, Any]) -> tuple[int, Category] | None:
    """The sender's id and the limit the update counts against; None when it is never
    limited (its type, no sender, a bot)."""
    sender: TelegramUser | None = data.get("event_from_user")
    category = category_of(event) if isinstance(event, Update) else None
    if category is None or sender is None or sender.is_bot:
        return None
    return sender.id, category


class GlobalLimitReached(UpdateDeferred):
    """The shop's global rate limit refused this update; answer non-2xx so Telegram
    delivers it again (webhook mode: bot/runtime.py answers 429 with Retry-After)."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class RateLimitMiddleware(BaseMiddleware):
    """`defer_global`: raise GlobalLimitReached for a global refusal (webhook mode)
    instead of dropping the update with a notice."""

    def __init__(self, limiter: RateLimiter, *, defer_global: bool = False) -> None:
        self.limiter = limiter
        self.defer_global = defer_global

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        request = limited_sender(event, data)
        if request is None:
            return await handler(event, data)
        sender_id, category = request
        limited = await self.limiter.check(sender_id, category, taken=data.pop(TAKEN, None))
        if limited is None:
            return await handler(event, data)
        if limited.category is Category.GLOBAL and self.defer_global:
            raise GlobalLimitReached(limited.retry_after_seconds)
        assert isinstance(event, Update)
        target = event.message or event.callback_query
        assert target is not None  # category_of found one of them
        sender: TelegramUser = data["event_from_user"]
        # Before registration: the language Telegram reports, not the stored choice.
        await tell_limited(target, limited, Texts(pick_language(sender.language_code)))
        return None
