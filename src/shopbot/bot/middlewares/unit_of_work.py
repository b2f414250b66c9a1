"""One unit of work per update: a request-scoped transaction.

Handlers receive it as `uow` (the domain's `UnitOfWork` port, never the SQL session).
It is an outer *update* middleware, so one unit of work serves the whole update's
handling (the user's registration before it commits on its own:
`ShopContextMiddleware`). It commits when the update's handling returns and rolls back
when it raises; a handler that runs no SQL costs no round trip (the transaction begins
with the first statement). `ErrorMiddleware` (inner, per observer) rolls
`data["uow"]` back itself before it answers a failure it swallows (a refusal, a
permanent Telegram error), so an answered failure leaves nothing half-written either;
a failure it raises again is rolled back here, and a redelivery starts clean.

A handler that moves money commits (`await uow.commit()`) before it tells the customer
(a message must never announce what a later failure could roll back), and commits or
rolls back before a Telegram call whenever it holds a row lock; the unit of work goes on
in a new transaction after that. Flows that must span a network call between two
transactions (creating a Heleket invoice, a refund, the purchase after a top-up) take
the factory `ctx.uows` instead and say so in their docstrings.

Screens that only show data (catalog browsing, order history, the admin's stats) also
take `reads`, a read-only unit of work that a replica may serve (`reads.py`); this one,
on the primary, stays the only one that writes or reads money.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from shopbot.domain.uow import UnitOfWork, UnitOfWorkFactory

UOW = "uow"
"""The handler argument (and middleware data key) of the update's unit of work."""


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
            data[UOW] = uow
            result = await handler(event, data)
            await uow.commit()
            return result


async def roll_back(data: dict[str, Any]) -> None:
    """Roll back the update's unit of work, if it has one (a failed handler's writes).
    Never raises: the failure being handled is what matters, and leaving the unit of
    work rolls back anyway."""
    uow: UnitOfWork | None = data.get(UOW)
    if uow is None:
        return
    try:
        await uow.rollback()
    except Exception:  # the database is what failed; the block's exit closes the session
        return
