"""Every log line of an update's handling carries its `update_id`.

The outermost update middleware: whatever runs inside it (de-duplication, the shop
context, routers, the error middleware) logs with the id bound through
`structlog.contextvars`. Polling handles one update at a time (`handle_as_tasks=False`)
and webhook mode one per aiohttp request task, so the binding never leaks across updates.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from structlog.contextvars import bound_contextvars


class UpdateLogContext(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        with bound_contextvars(update_id=event.update_id):
            return await handler(event, data)
