"""Redis calls that ride out a failover instead of failing the update.

When a Redis Cluster master dies, its slots are unserved until a replica is promoted:
about `cluster-node-timeout` (5 s in deploy/compose) plus an election, during which
every call on those slots fails with a connection error, CLUSTERDOWN or TRYAGAIN
(Redis Cluster specification, "Replica election and promotion"). redis-py's cluster
client retries such errors a few times, but at once and without waiting (redis-py 8,
`RedisCluster.execute_command`): its retries are spent within milliseconds. A restarted
single server answers LOADING while it reads its data back, and nothing while it is
down.

`ride_out_failover` wraps a client so that each command that fails this way is retried
with exponential backoff (50 ms doubling to 1 s, with jitter) until it succeeds or
`window_seconds` have passed; then the last error is raised. The cluster client
re-reads the slot map on each retry, so the first call after the promotion goes to the
new master. Every command goes through the wrapper: the coordination store, aiogram's
RedisStorage (FSM) and Lua scripts (EVALSHA). Pipelines do not (the project uses none).

A retried write may have been applied once already when the connection died before
the reply: callers whose commands are not idempotent say how they cope (the update
de-duplication stores a nonce and recognises its own SET NX).
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shopbot.observability.metrics import REDIS_FAILOVER_RETRIES
from shopbot.observability.metrics.redis_commands import command_name

log = logging.getLogger(__name__)

TRANSIENT = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    MasterDownError,
    SlotNotCoveredError,
    BusyLoadingError,
)
"""What a failover or a restart looks like to a client. BusyLoadingError and
MasterDownError are ConnectionError subclasses in redis-py; named for the reader."""

FIRST_DELAY = 0.05
MAX_DELAY = 1.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def backoff_delays(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    """first, 2·first, 4·first, ... capped at `cap` (seconds), each with up to 20 %
    jitter so that instances retrying together spread out."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not a secret
        delay = min(delay * 2, cap)


async def call_through_failover(
    call: Callable[[], Awaitable[Any]],
    window_seconds: float,
    *,
    what: str = "redis",
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Any:
    """Awaits `call()`; on one of TRANSIENT retries it with backoff until it succeeds or
    `window_seconds` (> 0) have passed since the first attempt, then raises the last
    error. Other errors are raised at once (after a retry they count as recovered: Redis
    answered). `what` (a command name) is only logged."""
    started = clock()
    delays = backoff_delays()
    retried = False
    while True:
        try:
            result = await call()
        except TRANSIENT as error:
            elapsed = clock() - started
            if elapsed >= window_seconds:
                REDIS_FAILOVER_RETRIES.labels("gave_up").inc()
                log.warning(
                    "redis %s failed for %.1f s, giving up: %s: %s",
                    what, elapsed, type(error).__name__, error,
                )  # fmt: skip
                raise
            if not retried:
                log.info("redis %s failed (%s), retrying through failover", what, error)
            retried = True
            # the last attempt comes at the window's end, not a backoff step before it
            await sleep(min(next(delays), window_seconds - elapsed))
            continue
        except Exception:
            # Redis answered, with an error of the command's own (a promoted replica
            # answers EVALSHA with NOSCRIPT until the script is loaded again, which
            # redis-py's Script then does): the failover is over for this call.
            if retried:
                _recovered(what, clock() - started)
            raise
        if retried:
            _recovered(what, clock() - started)
        return result


def _recovered(what: str, seconds: float) -> None:
    REDIS_FAILOVER_RETRIES.labels("recovered").inc()
    log.info("redis %s recovered after %.1f s", what, seconds)


def ride_out_failover(client: "Redis | RedisCluster", window_seconds: float) -> None:
    """Makes every command `client` executes go through `call_through_failover` (on
    this instance only: redis-py has no retry hook that waits, so `execute_command` is
    wrapped, as `instrument_redis` does for timing), except PING: health checks ask
    whether Redis answers now (the bot's readiness probe pings this very client).
    `window_seconds` <= 0 leaves the client as it is."""
    if window_seconds <= 0:
        return
    execute = client.execute_command

    async def retried(*args: Any, **options: Any) -> Any:
        command = command_name(args)
        if command == "PING":
            # the readiness probe's question is whether Redis answers now
            return await execute(*args, **options)
        return await call_through_failover(
            lambda: execute(*args, **options), window_seconds, what=command
        )

    client.execute_command = retried  # type: ignore[method-assign]
