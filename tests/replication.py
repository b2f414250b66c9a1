"""A throwaway PostgreSQL primary with a streaming standby (tests/pg_cluster.py), and the
standby-side controls the replica tests need: wait for replay, pause and resume it,
read the lag the application measures. Waits poll with a deadline (no fixed sleeps)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from shopbot.persistence import migrate
from shopbot.persistence.replicas import LAG_QUERY
from tests.pg_cluster import PgCluster

DEADLINE = 30.0


@dataclass
class Replication:
    primary: PgCluster
    standby: PgCluster


async def _query(cluster: PgCluster, sql: str) -> object:
    connection = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres")
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `condition` every 50 ms; AssertionError naming `what` after DEADLINE s."""
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                if await condition():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE} s: {what}") from None


async def replayed(replication: Replication) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = await _query(replication.primary, "SELECT pg_current_wal_lsn()::text")

    async def caught_up() -> bool:
        done = await _query(
            replication.standby, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        )
        return done is True

    await until(caught_up, "the standby replays the primary's WAL")


async def streaming(standby: PgCluster) -> None:
    """Until the standby's WAL receiver streams from the primary (after a restart)."""

    async def up() -> bool:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            status = await _query(standby, "SELECT status FROM pg_stat_wal_receiver")
            return status == "streaming"
        return False

    await until(up, "the standby streams")


async def pause_replay(standby: PgCluster) -> None:
    await _query(standby, "SELECT pg_wal_replay_pause()")


async def resume_replay(standby: PgCluster) -> None:
    await _query(standby, "SELECT pg_wal_replay_resume()")


async def measured_lag(standby: PgCluster) -> float | None:
    """The standby's replay lag in seconds as the application measures it."""
    value = await _query(standby, str(LAG_QUERY))
    return None if value is None else float(str(value))


@asynccontextmanager
async def running_replication() -> AsyncIterator[Replication]:
    """A migrated primary and its started, streaming standby; both destroyed after."""
    primary = await asyncio.to_thread(PgCluster)
    standby: PgCluster | None = None
    try:
        await asyncio.to_thread(primary.start)
        await asyncio.to_thread(migrate.upgrade, primary.url)
        standby = await asyncio.to_thread(primary.standby)
        await asyncio.to_thread(standby.start)
        replication = Replication(primary, standby)
        await streaming(standby)
        await replayed(replication)
        yield replication
    finally:
        if standby is not None:
            await asyncio.to_thread(standby.destroy)
        await asyncio.to_thread(primary.destroy)
