"""Redis commands ride out a master's death (bot/redis_failover.py) on a real 3+3
cluster: a writer that keeps going while master 0 is killed loses no command and fails
none, because each failed command waits (with backoff) for the replica's promotion.
Without the wrapper the same kill fails commands: the control that shows the test can
fail. (Giving up after the window: tests/integration/test_redis_failover.py.)"""

import asyncio
import gc
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from shopbot.bot.coordination import redis_client
from shopbot.observability.metrics import REDIS_FAILOVER_RETRIES
from tests.redis_cluster import LocalRedisCluster

# redis-py 8 drops some connections without closing them when it re-reads the slot map
# around a dead node; they are collected after each test here, where this filter applies,
# rather than in a later test at random.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
async def collect_dropped_connections() -> AsyncIterator[None]:
    yield
    await asyncio.sleep(0.5)  # the event loop reads the stopped nodes' EOF first
    gc.collect()


KEYS = 20
"""Keys on the master that is killed, so the writes really hit it."""


def counted(outcome: str) -> float:
    return REDIS_FAILOVER_RETRIES.labels(outcome)._value.get()  # type: ignore[attr-defined]


async def keys_on_first_master(client: RedisCluster, cluster: LocalRedisCluster) -> list[str]:
    """KEYS key names whose slot master 0 (cluster.nodes[0]) serves."""
    victim = cluster.nodes[0]
    found: list[str] = []
    candidate = 0
    while len(found) < KEYS:
        key = f"shopbot:test:failover:{candidate}"
        node = client.get_node_from_key(key)
        if node is not None and node.name == victim:
            found.append(key)
        candidate += 1
    return found


async def write_through(client: RedisCluster, keys: list[str], rounds: int) -> list[str]:
    """SET then GET each key, `rounds` times over; returns the errors met (as text)."""
    errors: list[str] = []
    for round_number in range(rounds):
        for key in keys:
            value = f"{round_number}"
            try:
                await client.set(key, value, ex=600)
                if (await client.get(key)) != value.encode():
                    errors.append(f"{key}: read back another value")
            except RedisError as error:
                errors.append(f"{key}: {type(error).__name__}: {error}")
        await asyncio.sleep(0)
    return errors


async def test_a_killed_master_fails_no_command(formed: LocalRedisCluster) -> None:
    client = redis_client(None, formed.nodes, retry_seconds=30)
    assert isinstance(client, RedisCluster)
    recovered_before = counted("recovered")
    try:
        await client.ping()
        keys = await keys_on_first_master(client, formed)
        writer = asyncio.create_task(write_through(client, keys, rounds=200))
        await asyncio.sleep(0.3)  # the writer is under way
        killed_at = time.monotonic()
        formed.kill(formed.ports[0])
        errors = await writer
        waited = time.monotonic() - killed_at
    finally:
        await client.aclose()
    assert errors == []
    # the writer did wait for the promotion (the node timeout is 2 s in tests)
    assert waited > 2
    assert counted("recovered") > recovered_before


async def test_without_the_wrapper_the_same_kill_fails_commands(
    formed: LocalRedisCluster,
) -> None:
    """The client as the bot builds it, minus the wrapper: redis-py alone retries at once
    (its own retries are off beside the wrapper, and would not wait either), so the
    commands fail within the node timeout (2 s here), before any promotion can happen."""
    client = redis_client(None, formed.nodes, retry_seconds=30)
    assert isinstance(client, RedisCluster)
    del client.execute_command  # the instance's wrapper: back to the class's method
    try:
        await client.ping()
        keys = await keys_on_first_master(client, formed)
        formed.kill(formed.ports[0])
        errors = await write_through(client, keys, rounds=1)
    finally:
        await client.aclose()
    assert errors, "redis-py alone rode out the failover: the wrapper would be needless"
