from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shopbot.persistence.replicas import ReadRouter
from shopbot.persistence.repositories.broadcasts import SqlBroadcastRepository
from shopbot.persistence.repositories.catalog import SqlCatalogRepository, SqlStockRepository
from shopbot.persistence.repositories.ledger import SqlLedgerRepository
from shopbot.persistence.repositories.orders import SqlOrderRepository
from shopbot.persistence.repositories.stars import SqlStarPaymentRepository
from shopbot.persistence.repositories.stats import SqlStatsRepository
from shopbot.persistence.repositories.topups import SqlTopupRepository
from shopbot.persistence.repositories.users import SqlUserRepository


class SqlUnitOfWork:
    """One session and transaction. Leaving the block without `commit()` rolls back.

    With `autocommit`, there is no transaction: each statement commits on its own (for
    work that is one statement anyway, so BEGIN and COMMIT would be two more round trips:
    the registration every bot update begins with, a balance read). Nothing can be rolled
    back there, so money cannot move through it: its ledger refuses postings (a posting
    is several statements that must commit together) and `rollback()` raises."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, autocommit: bool = False
    ) -> None:
        self._session_factory = session_factory
        self._autocommit = autocommit

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        if self._autocommit:  # SQLAlchemy restores the level when the connection goes back
            await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        self.users = SqlUserRepository(self.session)
        self.ledger = SqlLedgerRepository(self.session, postings=not self._autocommit)
        self.catalog = SqlCatalogRepository(self.session)
        self.stock = SqlStockRepository(self.session)
        self.orders = SqlOrderRepository(self.session)
        self.topups = SqlTopupRepository(self.session)
        self.stars = SqlStarPaymentRepository(self.session)
        self.stats = SqlStatsRepository(self.session)
        self.broadcasts = SqlBroadcastRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work has nothing to roll back")
        await self.session.rollback()


class UnitOfWorkFactory:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory)

    def autocommit(self) -> SqlUnitOfWork:
        """A unit of work whose statements each commit at once (`SqlUnitOfWork`)."""
        return SqlUnitOfWork(self._session_factory, autocommit=True)


class SqlReadOnlyUnitOfWork:
    """One READ ONLY transaction, on a replica or the primary as `router` chooses
    (`target` says which). Only read repositories; leaving the block rolls back."""

    def __init__(self, router: ReadRouter) -> None:
        self._router = router

    async def __aenter__(self) -> Self:
        self.session, self.target = await self._router.open()
        self.catalog = SqlCatalogRepository(self.session)
        self.stock = SqlStockRepository(self.session)
        self.orders = SqlOrderRepository(self.session)
        self.ledger = SqlLedgerRepository(self.session)
        self.stats = SqlStatsRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()


class ReadOnlyUnitOfWorkFactory:
    def __init__(self, router: ReadRouter) -> None:
        self.router = router

    def __call__(self) -> SqlReadOnlyUnitOfWork:
        return SqlReadOnlyUnitOfWork(self.router)
