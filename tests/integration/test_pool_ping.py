"""Pooled connections are pinged only after sitting idle (`engine.ping_when_idle`): a
connection the server dropped while it was idle is replaced before anyone uses it, and a
connection back in use at once is not pinged (the round trips that `pool_pre_ping` spent
on every checkout)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shopbot.persistence.engine import ping_when_idle

PID = text("SELECT pg_backend_pid()")
IDLE = 0.3


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """One pooled connection, so every checkout is the same one until it is replaced."""
    engine = create_async_engine(pg_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=IDLE)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(PID)).scalar_one())


async def terminate(engine: AsyncEngine, pid: int) -> None:
    """Ends the backend from a connection of its own, as a server restart would."""
    other = create_async_engine(engine.url, poolclass=None)
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: AsyncEngine,
) -> None:
    first = await backend_pid(engine)
    await terminate(engine, first)
    await asyncio.sleep(IDLE * 2)

    second = await backend_pid(engine)

    assert second != first


async def test_a_connection_reused_at_once_is_not_pinged(engine: AsyncEngine) -> None:
    """The control: within the idle window nothing checks the connection, so the first
    statement finds it dead (and SQLAlchemy then replaces it)."""
    first = await backend_pid(engine)
    await terminate(engine, first)

    with pytest.raises(DBAPIError):
        await backend_pid(engine)
    assert await backend_pid(engine) != first
