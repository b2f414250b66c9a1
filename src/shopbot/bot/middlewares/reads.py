"""Read-only units of work for the handlers that only show data.

A handler that takes a `reads` argument (the domain's `ReadOnlyUnitOfWork`) gets one
opened for it, on a healthy replica or else the primary (persistence/replicas.py), and
closed when it returns; the other handlers never open one. It serves catalog browsing,
order history and the admin's stats. Anything that reads a balance (or the ledger lines
under it) or moves money uses the primary's units of work: `reads` has no ledger and no
writes, and each of its statements is READ ONLY in the database too.

An inner middleware (the handler is known by then), registered inside `ErrorMiddleware`,
so a failure to open it (the primary down too) is answered like any other.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import TelegramObject

from shopbot.domain.uow import ReadOnlyUnitOfWorkFactory

READS = "reads"
"""The handler argument (and middleware data key) of the read-only unit of work."""


class ReadOnlyUnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, reads: ReadOnlyUnitOfWorkFactory) -> None:
        self.reads = reads

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        target = data.get("handler")
        if not (isinstance(target, HandlerObject) and READS in target.params):
            return await handler(event, data)
        async with self.reads() as reads:
            data[READS] = reads
            return await handler(event, data)
