"""The user's FSM state, read once per update and as late as the handlers allow.

aiogram's `FSMContextMiddleware` reads the state (a Redis GET with Redis) before any
other middleware runs, for every update. The shop's dispatcher uses `DeferredStateRead`
in its place (aiogram's with `disable_fsm=True`): it gives handlers `state` (the
FSMContext) as aiogram's does, under the same events-isolation lock, but leaves
`raw_state` (the state's name, what `StateFilter` and handlers such as `/start` read)
to later:

- `UpdateDedupeMiddleware` reads it in the script that claims the update, on a single
  Redis server (bot/update_claim.py: no round trip of its own);
- `ReadState`, the last outer middleware, reads it where nobody has (memory, a cluster,
  an update whose claim was a plain SET NX): before any filter or handler runs, so they
  all see it, as with aiogram's middleware. An update dropped before it (a duplicate, a
  rate-limited one, group traffic) reads no state at all.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject

STATE = "state"
RAW_STATE = "raw_state"
"""aiogram's middleware data keys (and handler arguments): the FSMContext, the state's
name (None when the user is in no state)."""

Next = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DeferredStateRead(FSMContextMiddleware):
    """aiogram's FSMContextMiddleware (aiogram/fsm/middleware.py) without its read of
    the state: `data["raw_state"]` is set by `UpdateDedupeMiddleware` or `ReadState`."""

    @classmethod
    def like(cls, aiogram_s: FSMContextMiddleware) -> "DeferredStateRead":
        """One on the storage, events isolation and strategy of the dispatcher's own
        (`Dispatcher.fsm`, which closes them at shutdown)."""
        return cls(aiogram_s.storage, aiogram_s.events_isolation, aiogram_s.strategy)

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        context = self.resolve_event_context(bot, data)
        data["fsm_storage"] = self.storage
        if context:
            # As aiogram's: the state is read under the lock (aiogram issue 1317), here
            # by a middleware inside this one.
            async with self.events_isolation.lock(key=context.key):
                data[STATE] = context
                return await handler(event, data)
        return await handler(event, data)


class ReadState(BaseMiddleware):
    """Reads the state into `data["raw_state"]` unless it was read already."""

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        context: FSMContext | None = data.get(STATE)
        if context is not None and RAW_STATE not in data:
            data[RAW_STATE] = await context.get_state()
        return await handler(event, data)
