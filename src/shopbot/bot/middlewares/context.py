"""Registers the user of every update and hands handlers `user`, `t` (texts) and `ctx`.

The registration is committed at once, outside the update's unit of work: the user
exists whatever the handler does, and no row lock of it is held while the handler talks
to Telegram. It runs in autocommit (`UnitOfWorkFactory.autocommit`,
`SqlUserRepository.register`): for a known user whose username did not change, one
statement and one round trip on PostgreSQL, instead of BEGIN, the statements and COMMIT
(bench/dispatch.py, docs/performance.md); a changed username, a referral link or SQLite
add a statement or two, each committed on its own."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update
from aiogram.types import User as TelegramUser

from shopbot.bot.context import BotContext
from shopbot.bot.texts import Texts, pick_language
from shopbot.domain.ids import parse_id
from shopbot.domain.users.use_cases import register_user

REFERRAL = re.compile(r"^/start(?:@\w+)?\s+(?:ref_?)?([0-9]+)$", re.ASCII)


def referrer_of(update: Update) -> int | None:
    """The referrer's id from a `/start ref_<id>` deep link; None when there is none or the
    number cannot be a user id (out of BIGINT range: the link is ignored, the user is
    still registered)."""
    message: Message | None = update.message
    if message is None or not message.text:
        return None
    match = REFERRAL.match(message.text.strip())
    return parse_id(match.group(1)) if match else None


class ShopContextMiddleware(BaseMiddleware):
    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        data["ctx"] = self.ctx
        if sender is None or sender.is_bot:
            data["t"] = Texts(pick_language(None))
            return await handler(event, data)
        async with self.ctx.uows.autocommit() as registration:
            user = await register_user(
                registration,
                sender.id,
                username=sender.username,
                language=pick_language(sender.language_code),
                referrer_id=referrer_of(event) if isinstance(event, Update) else None,
            )
        data["user"] = user
        data["t"] = Texts(user.language)
        return await handler(event, data)
