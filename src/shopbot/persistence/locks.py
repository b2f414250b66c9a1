"""Cluster-wide mutual exclusion for periodic jobs: PostgreSQL session advisory locks.

A session advisory lock belongs to a database session, not to a transaction, and the
server releases it when the session ends (PostgreSQL docs, "Advisory Locks"): when the
instance holding one dies, its connection closes and the lock is free for another. The
lock connections run in autocommit, so holding a lock never holds a transaction open
(an idle transaction would keep VACUUM from cleaning up for as long as the job runs).
"""

import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for the job name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True if this process holds the lock for the block, False if another does.

    SQLite (development, one process) has no advisory locks: always True.
    """
    async with lease(engine, name) as held:
        yield held is not None


class Lease:
    """A held lock: `check()` raises (sqlalchemy's DBAPIError) once its session is gone
    (the server restarted, the connection dropped), when the lock is gone with it."""

    def __init__(self, connection: AsyncConnection | None) -> None:
        self._connection = connection

    async def check(self) -> None:
        if self._connection is not None:
            await self._connection.scalar(text("SELECT 1"))


@asynccontextmanager
async def lease(engine: AsyncEngine, name: str) -> AsyncIterator[Lease | None]:
    """Takes the lock `name` for the block if no other session holds it: yields a Lease,
    or None when another instance has it. Released at the block's end (or with the
    session). SQLite (development, one process): always a Lease."""
    if engine.dialect.name != "postgresql":
        yield Lease(None)
        return
    key = lock_key(name)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(
            await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        )
        try:
            yield Lease(connection) if held else None
        finally:
            if held and not connection.closed and not connection.invalidated:
                # A session that is gone took the lock with it; an error here must not
                # replace what ends the block (a task's cancellation above all).
                with contextlib.suppress(Exception):
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
