"""The read-only unit of work with no replicas configured (the default, and always with
SQLite): the primary serves it, every read repository answers, and on PostgreSQL each
statement is its own READ ONLY transaction (a read-only engine in autocommit)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shopbot.domain.catalog.models import LocalizedText
from shopbot.domain.catalog.spec import CategorySpec
from shopbot.domain.ledger import user_account
from shopbot.persistence import migrate
from shopbot.persistence.engine import (
    create_engine,
    create_read_only_engine,
    create_session_factory,
)
from shopbot.persistence.replicas import ReadRouter, ReplicaPolicy
from shopbot.persistence.uow import ReadOnlyUnitOfWorkFactory, UnitOfWorkFactory
from tests.conftest import add_product, add_user

READ_ONLY_MODE = text("SHOW transaction_read_only")
# The transaction's start: two statements that read the same one ran in one transaction.
STARTED = text("SELECT now()")


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    """The shared PostgreSQL database, emptied (`pg_uow` truncates it), or a new SQLite."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_uow")
        shared: AsyncEngine = request.getfixturevalue("pg_engine")
        return shared
    own: AsyncEngine = request.getfixturevalue("sqlite_engine")
    return own


@pytest.fixture
async def read_sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The reads' sessions on `engine`'s database, as `open_reads` makes them: a
    read-only engine of their own on PostgreSQL, the same engine on SQLite."""
    if engine.dialect.name != "postgresql":
        yield create_session_factory(engine)
        return
    own = create_read_only_engine(engine.url.render_as_string(hide_password=False))
    yield create_session_factory(own)
    await own.dispose()


@pytest.fixture
async def pg_read_sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    own = create_read_only_engine(pg_url)
    yield create_session_factory(own)
    await own.dispose()


async def test_without_replicas_the_primary_serves_every_read(
    engine: AsyncEngine, read_sessions: async_sessionmaker[AsyncSession]
) -> None:
    uows = UnitOfWorkFactory(create_session_factory(engine))
    await add_user(uows, 77, balance="12.50")
    product_id = await add_product(uows, "key-1", stock=["K1", "K2", "K3"])
    served: list[str] = []
    reads = ReadOnlyUnitOfWorkFactory(ReadRouter(read_sessions, on_read=served.append))

    async with reads() as uow:
        products = await uow.catalog.products_in(None)
        left = await uow.stock.available(product_id)
        orders = await uow.orders.list_for_user(77, 10)
        users = await uow.stats.users_total()

    assert uow.target == "primary"
    assert served == ["primary"]
    assert [p.sku for p in products] == ["key-1"]
    assert (left, orders, users) == (3, [], 1)


async def test_a_statement_is_the_balance_and_the_lines_that_made_it(engine: AsyncEngine) -> None:
    """`ledger.statement`: the balance and the latest lines, newest first, limited, each
    account its own; an account nothing was posted to has 0.00 and no lines."""
    uows = UnitOfWorkFactory(create_session_factory(engine))
    for amount in ("1.00", "2.00", "3.00"):
        await add_user(uows, 81, balance=amount)
    await add_user(uows, 82, balance="9.00")

    async with uows.autocommit() as uow:
        two = await uow.ledger.statement(user_account(81), 2)
        every = await uow.ledger.statement(user_account(81), 10)
        other = await uow.ledger.statement(user_account(82), 10)
        none = await uow.ledger.statement(user_account(83), 10)

    assert two.balance == every.balance == Decimal("6.00")
    assert [line.amount for line in two.lines] == [Decimal("3.00"), Decimal("2.00")]
    assert [line.amount for line in every.lines] == [
        Decimal("3.00"),
        Decimal("2.00"),
        Decimal("1.00"),
    ]
    assert (other.balance, [line.amount for line in other.lines]) == (
        Decimal("9.00"),
        [Decimal("9.00")],
    )
    assert (none.balance, none.lines) == (Decimal("0.00"), [])


async def test_a_write_through_reads_on_the_primary_fails(
    pg_read_sessions: async_sessionmaker[AsyncSession],
) -> None:
    reads = ReadOnlyUnitOfWorkFactory(ReadRouter(pg_read_sessions))
    category = CategorySpec(
        slug=f"c-{uuid.uuid4().hex[:8]}", title=LocalizedText("к", "c"), position=1
    )

    async with reads() as uow:
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await uow.catalog.upsert_category(category)  # not on the port: forced here


async def test_a_replica_that_never_answers_falls_back_to_the_primary(
    pg_read_sessions: async_sessionmaker[AsyncSession], pg_uow: UnitOfWorkFactory
) -> None:
    """A replica host that accepts connections and then says nothing (a hung server, a
    firewall that drops): after `open_timeout` the primary serves, and the replica cools
    down instead of holding every read for the driver's 60 s connect timeout."""
    await add_user(pg_uow, 91)
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    replica = create_read_only_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")
    served: list[str] = []
    router = ReadRouter(
        pg_read_sessions,
        [create_session_factory(replica)],
        ReplicaPolicy(open_timeout=0.5),
        on_read=served.append,
    )
    reads = ReadOnlyUnitOfWorkFactory(router)
    try:
        async with reads() as first:
            users = await first.stats.users_total()
        async with reads() as second:
            pass
    finally:
        await replica.dispose()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()

    assert (first.target, second.target) == ("primary", "primary")
    assert served == ["primary", "primary"]
    assert users == 1
    assert len(held) == 1  # the second read did not try the cooling replica


async def test_reads_on_the_primary_are_read_only_statements_outside_a_transaction(
    pg_read_sessions: async_sessionmaker[AsyncSession], pg_uow: UnitOfWorkFactory
) -> None:
    """Each read is a transaction of its own (no BEGIN and ROLLBACK round trips around
    it) and READ ONLY; the writers' engine is untouched by the readers' settings."""
    reads = ReadOnlyUnitOfWorkFactory(ReadRouter(pg_read_sessions))
    async with reads() as uow:
        await uow.stats.users_total()
        read_mode = (await uow.session.execute(READ_ONLY_MODE)).scalar()
        read_starts = [(await uow.session.execute(STARTED)).scalar_one() for _ in range(2)]
    async with pg_uow() as writer:
        await writer.stats.users_total()
        write_mode = (await writer.session.execute(READ_ONLY_MODE)).scalar()
        write_starts = [(await writer.session.execute(STARTED)).scalar_one() for _ in range(2)]

    assert read_mode == "on"
    assert read_starts[0] < read_starts[1]  # a transaction each
    assert write_mode == "off"
    assert write_starts[0] == write_starts[1]  # the writers' one transaction


def test_read_only_engines_are_for_postgresql_only() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_read_only_engine("sqlite+aiosqlite:///shop.db")
