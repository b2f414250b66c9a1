from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from shopbot.domain.broadcasts.ports import BroadcastRepository
from shopbot.domain.catalog.ports import (
    CatalogReader,
    CatalogRepository,
    StockReader,
    StockRepository,
)
from shopbot.domain.ledger.ports import LedgerRepository
from shopbot.domain.orders.ports import OrderReader, OrderRepository
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


class ReadOnlyUnitOfWork(Protocol):
    """Reads for screens that only show data: catalog browsing, a customer's orders, the
    admin's stats. They may be served by a streaming replica, a bounded few seconds
    behind the primary (DATABASE_REPLICA_URLS, DATABASE_REPLICA_MAX_LAG_SECONDS), so it
    offers no writes and no ledger: whatever shows or decides money (a balance and its
    lines, a purchase, a top-up) takes a `UnitOfWork`, which is always the primary. Each
    statement is READ ONLY in the database as well, so a write smuggled past these types
    fails instead of landing on the primary."""

    @property
    def catalog(self) -> CatalogReader: ...
    @property
    def stock(self) -> StockReader: ...
    @property
    def orders(self) -> OrderReader: ...
    @property
    def stats(self) -> StatsRepository: ...


ReadOnlyUnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[ReadOnlyUnitOfWork]]
"""Opens a new read-only unit of work (on a healthy replica, else the primary)."""
