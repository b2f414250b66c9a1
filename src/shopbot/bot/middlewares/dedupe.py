"""At most one successful handling of each update across all instances.

Telegram redelivers an update whose webhook answer was not 2xx; handlers are idempotent
anyway (money moves under database keys), this also spares users duplicate messages.

The claim holds a nonce of this handling: a SET NX retried through a Redis failover
(bot/redis_failover.py) may find its own first attempt applied, and must not take it
for another instance's.
"""

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from shopbot.bot.coordination import Coordination

DONE_TTL = 24 * 3600  # Telegram keeps undelivered updates for 24 hours
BUSY_TTL = 120


class UpdateInProgress(Exception):
    """Another instance is handling this update right now; answer non-2xx, retry later."""


class UpdateDedupeMiddleware(BaseMiddleware):
    def __init__(self, coordination: Coordination) -> None:
        self.coordination = coordination

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = f"shopbot:update:{data['bot'].id}:{event.update_id}"
        claim = f"busy:{secrets.token_hex(8)}"
        if not await self.coordination.set_if_absent(key, claim, BUSY_TTL):
            held = await self.coordination.get(key)
            if held == "done":
                return None
            if held != claim:
                raise UpdateInProgress(event.update_id)
        try:
            result = await handler(event, data)
        except BaseException:
            await self.coordination.delete(key)
            raise
        await self.coordination.set(key, "done", DONE_TTL)
        return result
