"""One unit of work per update: a request-scoped transaction.

Handlers receive it as `uow` (the domain's `UnitOfWork` port, never the SQL session).
It commits when the handler returns and rolls back when it raises, so a failed update
leaves nothing half-written and a redelivery starts clean. It sits inside
`ErrorMiddleware`: the rollback happens before the user is told about the failure.

A handler that moves money commits (`await uow.commit()`) before it tells the customer
(a message must never announce what a later failure could roll back); the unit of work
goes on in a new transaction after that. Flows that must span a network call between
two transactions (creating a Heleket invoice, a refund) take the factory `ctx.uows`
instead and say so in their docstrings.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from shopbot.domain.uow import UnitOfWorkFactory


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.uows() as uow:
            data["uow"] = uow
            result = await handler(event, data)
            await uow.commit()
            return result
