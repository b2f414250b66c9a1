"""Periodic jobs run on one instance at a time (persistence/locks.py `exclusive`, a
PostgreSQL session advisory lock; jobs/periodic.py `run_periodically`), and the lease
moves when its holder dies: PostgreSQL ends a dead client's session and frees its locks.
Instances are separate engines (separate sessions) on the real server; the dead holder
is a separate process killed with SIGKILL."""

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.jobs.leader import run_as_leader
from shopbot.jobs.periodic import run_periodically
from shopbot.persistence.engine import create_engine
from shopbot.persistence.locks import exclusive, lock_key

HOLD = """
import asyncio, sys, asyncpg
async def main():
    connection = await asyncpg.connect(sys.argv[1])
    assert await connection.fetchval("SELECT pg_try_advisory_lock($1)", int(sys.argv[2]))
    print("held", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_one_holder_at_a_time(pg_url: str) -> None:
    first, second = create_engine(pg_url), create_engine(pg_url)
    name = f"test-lease-{uuid.uuid4()}"
    try:
        async with exclusive(first, name) as held_first, exclusive(second, name) as held_second:
            assert (held_first, held_second) == (True, False)
        # released at the block's end: the other instance takes it next time
        async with exclusive(second, name) as held_again:
            assert held_again
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_lease_moves_when_its_holder_is_killed(pg_url: str) -> None:
    name = f"test-lease-{uuid.uuid4()}"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD, asyncpg_url(pg_url), str(lock_key(name)),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    engine = create_engine(pg_url)
    try:
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"held"
        async with exclusive(engine, name) as held:
            assert not held  # the other process has it
        os.kill(holder.pid, signal.SIGKILL)
        await asyncio.wait_for(holder.wait(), 10)
        # the server notices the closed socket and ends the session (with its locks)
        deadline = time.monotonic() + 20
        while True:
            async with exclusive(engine, name) as held:
                if held:
                    break
            assert time.monotonic() < deadline, "the dead holder's lease never moved"
            await asyncio.sleep(0.1)
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await engine.dispose()


async def test_two_instances_never_run_the_job_at_once(pg_url: str) -> None:
    """Two instances tick every 20 ms for a while; each run takes 30 ms. Runs happen,
    on one instance at a time: no two recorded intervals overlap."""
    name = f"test-lease-{uuid.uuid4()}"
    runs: list[tuple[str, float, float]] = []

    def job_of(instance: str):  # type: ignore[no-untyped-def]
        async def job() -> str:
            started = time.monotonic()
            await asyncio.sleep(0.03)
            runs.append((instance, started, time.monotonic()))
            return "ok"

        return job

    engines: list[AsyncEngine] = [create_engine(pg_url), create_engine(pg_url)]
    tasks = [
        asyncio.create_task(run_periodically(engine, name, 0.02, job_of(f"i{n}")))
        for n, engine in enumerate(engines)
    ]
    try:
        await asyncio.sleep(1.5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines:
            await engine.dispose()
    assert len(runs) >= 5
    ordered = sorted(runs, key=lambda run: run[1])
    for (_, _, ended), (_, started, _) in itertools.pairwise(ordered):
        assert started >= ended, ordered


async def test_the_lock_is_a_session_lock_freed_with_its_connection(pg_url: str) -> None:
    """What the move relies on: a session advisory lock is released when the session
    ends, with no unlock (PostgreSQL docs, "Advisory Locks")."""
    key = lock_key(f"test-lease-{uuid.uuid4()}")
    first = await asyncpg.connect(asyncpg_url(pg_url))
    second = await asyncpg.connect(asyncpg_url(pg_url))
    try:
        assert await first.fetchval("SELECT pg_try_advisory_lock($1)", key)
        assert not await second.fetchval("SELECT pg_try_advisory_lock($1)", key)
        await first.close()
        assert await second.fetchval("SELECT pg_try_advisory_lock($1)", key)
    finally:
        await second.close()
        if not first.is_closed():
            await first.close()


async def test_the_leader_keeps_the_lease_and_it_moves_when_the_leader_stops(
    pg_url: str,
) -> None:
    """run_as_leader: of two instances ticking every 20 ms, one runs the job every time
    while it leads; stopping it (its task cancelled, as at shutdown) hands the lease to
    the other, which then runs it."""
    name = f"test-leader-{uuid.uuid4()}"
    runs: list[str] = []

    def job_of(instance: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            runs.append(instance)

        return job

    engines = [create_engine(pg_url), create_engine(pg_url)]
    tasks = [
        asyncio.create_task(run_as_leader(engine, name, 0.02, job_of(f"i{n}")))
        for n, engine in enumerate(engines)
    ]
    try:
        await asyncio.sleep(1.0)
        leader = runs[0]
        assert len(runs) >= 10
        assert set(runs) == {leader}  # the other instance never ran it
        follower = tasks[1] if leader == "i0" else tasks[0]
        led = tasks[0] if leader == "i0" else tasks[1]
        led.cancel()
        await asyncio.gather(led, return_exceptions=True)
        before = len(runs)
        await asyncio.sleep(1.0)
        assert not follower.done()
        assert set(runs[before:]) == {"i1" if leader == "i0" else "i0"}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines:
            await engine.dispose()


async def test_holding_a_lease_holds_no_transaction_open(
    pg_url: str, pg_engine: AsyncEngine
) -> None:
    """The lock's session is in autocommit: while a job runs under it, the session is
    `idle`, never `idle in transaction` (which would hold back VACUUM for the job's
    whole length)."""
    name = f"test-lease-{uuid.uuid4()}"
    engine = create_engine(pg_url)
    try:
        async with exclusive(engine, name) as held:
            assert held
            async with pg_engine.connect() as observer:
                states = (
                    (
                        await observer.execute(
                            text(
                                "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a"
                                " ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                                " AND (l.classid::bigint << 32 | l.objid::bigint) = :key"
                            ),
                            {"key": lock_key(name)},
                        )
                    )
                    .scalars()
                    .all()
                )
        assert states == ["idle"]
    finally:
        await engine.dispose()
