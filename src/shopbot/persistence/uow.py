import functools
from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
    is several statements that must commit together) and `rollback()` raises.

    The session and each repository are made when first used: the bot opens a unit of
    work for every update (middlewares/unit_of_work.py) and most screens never use it,
    and making, committing and closing an unused session cost about 0.15 ms of CPU per
    update (bench/dispatch.py). A unit of work whose session was never made has nothing
    to commit or roll back."""

    def __init__(
        self, session_factory: Callable[[], AsyncSession], *, autocommit: bool = False
    ) -> None:
        """`autocommit`: `session_factory`'s sessions are bound to an autocommit engine
        (`UnitOfWorkFactory.autocommit`)."""
        self._session_factory = session_factory
        self._autocommit = autocommit

    async def __aenter__(self) -> Self:
        return self

    @cached_property
    def session(self) -> AsyncSession:
        return self._session_factory()

    @property
    def _opened(self) -> AsyncSession | None:
        """The session, if it was made."""
        made: AsyncSession | None = self.__dict__.get("session")
        return made

    @cached_property
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self.session)

    @cached_property
    def ledger(self) -> SqlLedgerRepository:
        return SqlLedgerRepository(self.session, postings=not self._autocommit)

    @cached_property
    def catalog(self) -> SqlCatalogRepository:
        return SqlCatalogRepository(self.session)

    @cached_property
    def stock(self) -> SqlStockRepository:
        return SqlStockRepository(self.session)

    @cached_property
    def orders(self) -> SqlOrderRepository:
        return SqlOrderRepository(self.session)

    @cached_property
    def topups(self) -> SqlTopupRepository:
        return SqlTopupRepository(self.session)

    @cached_property
    def stars(self) -> SqlStarPaymentRepository:
        return SqlStarPaymentRepository(self.session)

    @cached_property
    def stats(self) -> SqlStatsRepository:
        return SqlStatsRepository(self.session)

    @cached_property
    def broadcasts(self) -> SqlBroadcastRepository:
        return SqlBroadcastRepository(self.session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._opened
        if session is None:
            return
        if self._autocommit:  # every statement committed: nothing to roll back
            await session.close()
            return
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        session = self._opened
        if session is not None:
            await session.commit()

    async def rollback(self) -> None:
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work has nothing to roll back")
        session = self._opened
        if session is not None:
            await session.rollback()


class UnitOfWorkFactory:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        # A copy of the engine sharing its pool (SQLAlchemy's Engine.execution_options):
        # SQLAlchemy sets autocommit when a connection is checked out for it and restores
        # the level when it goes back. Setting it per unit of work instead checked a
        # connection out on entering and cost ~0.04 ms of CPU each (bench/dispatch.py).
        engine: AsyncEngine = session_factory.kw["bind"]
        self._autocommit_sessions = functools.partial(
            session_factory, bind=engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory)

    def autocommit(self) -> SqlUnitOfWork:
        """A unit of work whose statements each commit at once (`SqlUnitOfWork`)."""
        return SqlUnitOfWork(self._autocommit_sessions, autocommit=True)


class SqlReadOnlyUnitOfWork:
    """Reads on a replica or the primary as `router` chooses (`target` says which), each
    statement its own READ ONLY transaction (`create_read_only_engine`). Only read
    repositories; leaving the block gives the connection back."""

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
        await self.session.close()


class ReadOnlyUnitOfWorkFactory:
    def __init__(self, router: ReadRouter) -> None:
        self.router = router

    def __call__(self) -> SqlReadOnlyUnitOfWork:
        return SqlReadOnlyUnitOfWork(self.router)
