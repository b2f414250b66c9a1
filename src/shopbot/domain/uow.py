from typing import Protocol

from shopbot.domain.catalog.ports import CatalogRepository, StockRepository
from shopbot.domain.ledger.ports import LedgerRepository
from shopbot.domain.orders.ports import OrderRepository
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

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
