from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from shopbot.domain.broadcasts.ports import BroadcastRepository
from shopbot.domain.catalog.ports import CatalogRepository, StockRepository
from shopbot.domain.ledger.ports import LedgerRepository
from shopbot.domain.orders.ports import OrderRepository
from shopbot.domain.payments.ports import StarPaymentRepository, TopupRepository
from shopbot.domain.stats import StatsRepository
from shopbot.domain.users.ports import UserRepository


class UnitOfWork(Protocol):
    """One database transaction. Use cases work inside it and never commit: the caller
    (a CLI command, a bot handler, a webhook request) owns the transaction."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def stock(self) -> StockRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def topups(self) -> TopupRepository: ...
    @property
    def stars(self) -> StarPaymentRepository: ...
    @property
    def stats(self) -> StatsRepository: ...
    @property
    def broadcasts(self) -> BroadcastRepository: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]
"""Opens a new unit of work; for use cases that must commit around network calls."""
