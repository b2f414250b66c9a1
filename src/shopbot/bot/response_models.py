"""Keeps aiogram's Bot API answer models alive, so pydantic does not rebuild them.

aiogram validates every Bot API answer with `Response[method.__returning__]`
(aiogram/client/session/base.py, `check_response`), a pydantic generic model
parametrised on each call. Pydantic caches parametrisations in a WeakValueDictionary
(pydantic/_internal/_generics.py, `_GENERIC_TYPES_CACHE`): once the answers of a kind
are garbage, the garbage collector takes the class too, and the next call builds it
again, schema and validator included, ~10 ms of CPU. Profiling the bot
(`bench/dispatch.py --profile`) found 219 such rebuilds in 1,200 Bot API calls, a tenth
of the process's CPU. Holding one reference to each parametrisation keeps pydantic's own
cache warm; there are as many as the Bot API methods the process calls (a few dozen).
"""

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

_KEPT: dict[type[Any], type[Any]] = {}


class KeepResponseModels(BaseRequestMiddleware):
    """A Bot session middleware that pins `Response[<returned type>]` per method class."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in _KEPT:
            _KEPT[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
