import functools
from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Generic, Self, TypeVar, overload

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

R = TypeVar("R")


class _Repository(Generic[R]):
    """A unit of work's repository, made from its `session` when first used and then
    kept (like `cached_property`): `users = _Repository(SqlUserRepository)`."""

    def __init__(self, make: Callable[[AsyncSession], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, unit: None, owner: type) -> Self: ...
    @overload
    def __get__(self, unit: "SqlUnitOfWork | SqlReadOnlyUnitOfWork", owner: type) -> R: ...
    def __get__(
        self, unit: "SqlUnitOfWork | SqlReadOnlyUnitOfWork | None", owner: type
    ) -> "R | Self":
        if unit is None:
            return self
        made = self._make(unit.session)
        unit.__dict__[self._name] = made  # found before this descriptor from now on
        return made


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

    users = _Repository(SqlUserRepository)
    catalog = _Repository(SqlCatalogRepository)
    stock = _Repository(SqlStockRepository)
    orders = _Repository(SqlOrderRepository)
    topups = _Repository(SqlTopupRepository)
    stars = _Repository(SqlStarPaymentRepository)
    stats = _Repository(SqlStatsRepository)
    broadcasts = _Repository(SqlBroadcastRepository)

    @cached_property
    def ledger(self) -> SqlLedgerRepository:
        return SqlLedgerRepository(self.session, postings=not self._autocommit)

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
        # connection out on entering and cost ~0.05 ms of CPU each (bench/dispatch.py).
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

    catalog = _Repository(SqlCatalogRepository)
    stock = _Repository(SqlStockRepository)
    orders = _Repository(SqlOrderRepository)
    stats = _Repository(SqlStatsRepository)

    async def __aenter__(self) -> Self:
        self.session, self.target = await self._router.open()
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
