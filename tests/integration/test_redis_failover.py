"""A single Redis server (REDIS_URL) restarted under a running client: commands wait for
it within REDIS_RETRY_SECONDS (bot/redis_failover.py) and fail once the window has
passed. The server is a real `redis-server` on a free loopback port, started and
killed by the test; the shared one on 6379 is never touched."""

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.types import Update
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from shopbot.bot.coordination import Coordination, RedisCoordination, redis_client
from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.redis_failover import call_through_failover, ride_out_failover
from shopbot.http.serve import free_port
from shopbot.observability.metrics import REDIS_FAILOVER_RETRIES

pytestmark = pytest.mark.subprocess


def counted(outcome: str) -> float:
    return REDIS_FAILOVER_RETRIES.labels(outcome)._value.get()  # type: ignore[attr-defined,no-any-return]


class Server:
    """One `redis-server` on `port`, without persistence; `start` waits until it answers."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(free_port(), tmp_path)
    running.start()
    yield running
    running.kill()


async def test_a_restart_within_the_window_fails_no_command(server: Server) -> None:
    client = redis_client(f"redis://127.0.0.1:{server.port}/0", [], retry_seconds=30)
    assert isinstance(client, Redis)
    recovered_before = counted("recovered")
    try:
        await client.set("shopbot:test:restart", "before")
        server.kill()
        # the server comes back 1.5 s later; meanwhile a command is sent
        restart = asyncio.get_running_loop().call_later(1.5, server.start)
        started = time.monotonic()
        await client.set("shopbot:test:restart", "after")
        waited = time.monotonic() - started
        restart.cancel()
        assert await client.get("shopbot:test:restart") == b"after"
    finally:
        await client.aclose()
    assert waited >= 1.4  # it did wait for the restart, not succeed elsewhere
    assert counted("recovered") == recovered_before + 1


async def test_a_server_that_stays_down_fails_after_the_window(server: Server) -> None:
    client = redis_client(f"redis://127.0.0.1:{server.port}/0", [], retry_seconds=1.5)
    assert isinstance(client, Redis)
    gave_up_before = counted("gave_up")
    try:
        await client.ping()
        server.kill()
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await client.set("shopbot:test:down", "x")
        failed_after = time.monotonic() - started
    finally:
        await client.aclose()
    assert 1.5 <= failed_after < 5
    assert counted("gave_up") == gave_up_before + 1


async def test_other_errors_are_not_retried() -> None:
    """A wrong command is a bug, not an outage: raised at once, whatever the window."""
    calls = 0

    async def wrong() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("not a Redis outage")

    with pytest.raises(ValueError, match="not a Redis outage"):
        await call_through_failover(wrong, 30)
    assert calls == 1


async def test_zero_leaves_the_client_as_redis_py_makes_it() -> None:
    client = redis_client("redis://127.0.0.1:6379/0", [], retry_seconds=0)
    assert isinstance(client, Redis)
    try:
        assert "execute_command" not in vars(client)  # no instance-level wrapper
        assert await client.ping()
    finally:
        await client.aclose()


class ClaimsBySetNx:
    """The Redis coordination, but not a RedisCoordination: the de-duplication claims by
    SET NX, as on a cluster, instead of the single server's script."""

    def __init__(self, inner: RedisCoordination) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("claim", ["script", "SET NX"])
async def test_a_claim_whose_reply_was_lost_is_recognised_as_ours(claim: str) -> None:
    """The update de-duplication's claim (the script of bot/update_claim.py on a single
    server, a SET NX on a cluster) is applied, its reply lost with the connection, and
    retried: the retry finds the key taken, by its own nonce, and handles the update
    once instead of taking it for another instance's claim."""
    client = redis_client("redis://127.0.0.1:6379/0", [], retry_seconds=0)
    assert isinstance(client, Redis)
    send = client.execute_command
    lost: list[tuple[object, ...]] = []

    async def reply_lost_once(*args: object, **options: object) -> object:
        result = await send(*args, **options)
        claiming = args[0] == "EVALSHA" if claim == "script" else "NX" in args
        if claiming and not lost:
            lost.append(args)
            raise RedisConnectionError("connection reset before the reply")
        return result

    client.execute_command = reply_lost_once  # type: ignore[method-assign]
    ride_out_failover(client, 5)  # over the lossy connection, as in the bot
    handled: list[int] = []

    async def handler(event: object, data: dict[str, object]) -> str:
        handled.append(1)
        return "handled"

    update_id = int(time.time() * 1000) % 2**31
    bot = Bot("4242:TEST-token", default=None)
    key = f"shopbot:update:4242:{update_id}"
    try:
        coordination = RedisCoordination(client)
        claims = coordination if claim == "script" else ClaimsBySetNx(coordination)
        dedupe = UpdateDedupeMiddleware(cast(Coordination, claims))
        update = Update(update_id=update_id)
        assert await dedupe(handler, update, {"bot": bot}) == "handled"
        assert await dedupe(handler, update, {"bot": bot}) is None  # a redelivery
        assert await client.get(key) == b"done"
    finally:
        await client.delete(key)
        await client.aclose()
        await bot.session.close()
    assert len(lost) == 1
    assert handled == [1]


async def test_an_answer_with_an_error_after_a_retry_counts_as_recovered() -> None:
    """A promoted replica answers EVALSHA with NOSCRIPT (its script cache is its own):
    Redis is back, the error is the command's; redis-py's Script reloads and re-runs."""
    answers: list[Exception] = [RedisConnectionError("reset by the failover"), NoScriptError("x")]
    recovered_before = counted("recovered")

    async def evalsha() -> None:
        raise answers.pop(0)

    async def no_wait(_: float) -> None:
        return None

    with pytest.raises(NoScriptError):
        await call_through_failover(evalsha, 30, sleep=no_wait)
    assert answers == []
    assert counted("recovered") == recovered_before + 1
