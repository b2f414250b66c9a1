"""A broadcast survives its worker: killed with SIGKILL in another process, or cancelled
in the middle of a batch, it resumes with no duplicate and no skipped recipient but the
batch in flight (reported UNKNOWN, never sent again); two workers never both send."""

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.bot.broadcast_worker import BROADCAST_LEASE, BroadcastWorker
from shopbot.jobs.periodic import run_periodically
from shopbot.persistence.locks import exclusive
from tests.integration.broadcast_env import (
    Env,
    FakeClock,
    SendLog,
    add_users,
    create,
    env,
    states,
    text,
)

__all__ = ["env"]  # the fixture
ROOT = Path(__file__).resolve().parents[2]


async def poll_until(
    condition: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109 - a deadline for a condition, not an I/O call
) -> None:
    """Another process's (or task's) state, seen through the database: no event to await."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.1)


def per_chat(env: Env, users: list[int]) -> dict[int, int]:
    """How many messages each user got from the bot, as the emulator saw them."""
    return {u: sum(m.sender == "bot" for m in env.emu.messages(u)) for u in users}


def assert_at_most_once_and_nothing_skipped(
    env: Env, users: list[int], final: dict[int, str], batch: int
) -> list[int]:
    """The guarantee: nobody got it twice; every recipient has a final state; SENT ones
    got it exactly once; only the UNKNOWN ones (at most one batch) may have missed it.
    Returns the UNKNOWN recipients."""
    counts = per_chat(env, users)
    assert max(counts.values()) == 1, "a duplicate"
    assert set(final) == set(users)
    assert set(final.values()) <= {"sent", "unknown"}
    unknown = [u for u in users if final[u] == "unknown"]
    assert len(unknown) <= batch
    assert all(counts[u] == 1 for u in users if final[u] == "sent")
    return unknown


async def test_sigkill_mid_broadcast_resumes_without_duplicate_or_skip(
    env: Env, pg_url: str, pg_engine: AsyncEngine
) -> None:
    users = list(range(1, 81))
    await add_users(env, users)
    broadcast = await create(env, text("news"))
    batch = 5
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.broadcast_child",
        pg_url,
        env.api,
        "20",
        str(batch),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"},
    )
    try:
        await env.emu.wait_for(lambda: sum(per_chat(env, users).values()) >= 23, timeout=60)
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    before = await states(env, broadcast.id)
    assert "pending" in before.values()  # killed in the middle, not after the end
    in_flight = sorted(u for u, s in before.items() if s == "sending")
    # Killed right after the 23rd delivery, while the 24th and 25th wait for the pace
    # (20 a second): the batch of users 21-25 is claimed and not recorded.
    assert 1 <= len(in_flight) <= batch

    # The dead worker's session is gone, so is its advisory lock: the lease moves.
    async def lease_is_free() -> bool:
        async with exclusive(pg_engine, BROADCAST_LEASE) as held:
            return held

    await poll_until(lease_is_free, timeout=10)
    async with exclusive(pg_engine, BROADCAST_LEASE) as held:
        assert held
        await env.worker(clock=FakeClock(), batch_size=batch).drain()

    final = await states(env, broadcast.id)
    unknown = assert_at_most_once_and_nothing_skipped(env, users, final, batch)
    assert unknown == in_flight  # exactly the batch the child had claimed
    async with env.uows() as uow:
        progress = await uow.broadcasts.progress(broadcast.id)
    assert (progress.sent, progress.unknown, progress.left) == (80 - len(unknown), len(unknown), 0)


async def test_cancelled_mid_batch_records_what_it_knows_and_resumes(env: Env) -> None:
    users = list(range(1, 41))
    await add_users(env, users)
    broadcast = await create(env, text("news"))
    clock = FakeClock()
    drain: asyncio.Task[int] | None = None

    async def stop_at(count: int) -> None:
        if count == 13 and drain is not None:  # the third request of the third batch
            drain.cancel()

    env.bot.session.middleware(SendLog(clock, before=stop_at))
    drain = asyncio.create_task(env.worker(clock=clock, batch_size=5, rate=5).drain())
    with contextlib.suppress(asyncio.CancelledError):
        await drain
    assert drain.cancelled()
    stopped = await states(env, broadcast.id)
    # Outcomes received are recorded, requests not yet made went back to PENDING: only a
    # request really under way is left in flight.
    assert [stopped[u] for u in users[:10]] == ["sent"] * 10
    assert 1 <= list(stopped.values()).count("sending") <= 3
    assert "pending" in [stopped[u] for u in users[10:15]]

    await env.worker(clock=FakeClock(), batch_size=5).drain()

    final = await states(env, broadcast.id)
    unknown = assert_at_most_once_and_nothing_skipped(env, users, final, 3)
    assert unknown == sorted(u for u, s in stopped.items() if s == "sending")


async def test_two_workers_one_lease_one_sender(env: Env, pg_engine: AsyncEngine) -> None:
    users = list(range(1, 31))
    await add_users(env, users)
    broadcast = await create(env, text("once"))
    bots = [env.new_bot(), env.new_bot()]
    logs = [SendLog(lambda: 0.0), SendLog(lambda: 0.0)]
    tasks = []
    for bot, log in zip(bots, logs, strict=True):
        bot.session.middleware(log)
        worker = BroadcastWorker(bot, env.uows, rate=30, batch_size=5)
        tasks.append(
            asyncio.create_task(
                run_periodically(pg_engine, BROADCAST_LEASE, 0.05, worker.drain, log_result=False)
            )
        )

    async def done() -> bool:
        return "pending" not in (await states(env, broadcast.id)).values()

    try:
        await poll_until(done, timeout=30)
        await asyncio.sleep(0.3)  # both had time to look again
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for bot in bots:
            await bot.session.close()
    assert sorted(len(log.sends) for log in logs) == [0, 30]
    assert per_chat(env, users) == dict.fromkeys(users, 1)
