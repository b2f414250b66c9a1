"""The coordination store behaves the same in memory and on a real Redis server."""

import uuid
from collections.abc import AsyncIterator

import pytest

from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    if request.param == "memory":
        coordination: Coordination = MemoryCoordination()
    else:
        client = redis_client(REDIS_URL, [])
        assert client is not None
        await client.ping()  # a missing server fails the test; it is never skipped
        coordination = RedisCoordination(client)
    yield coordination
    await coordination.close()


async def test_set_if_absent_get_set_delete(store: Coordination) -> None:
    key = f"shopbot:test:{uuid.uuid4()}"
    assert await store.set_if_absent(key, "busy", 60)
    assert not await store.set_if_absent(key, "busy", 60)
    assert await store.get(key) == "busy"
    await store.set(key, "done", 60)
    assert await store.get(key) == "done"
    await store.delete(key)
    assert await store.get(key) is None
    assert await store.set_if_absent(key, "again", 60)
    await store.delete(key)


async def test_values_expire(store: Coordination) -> None:
    import asyncio

    key = f"shopbot:test:{uuid.uuid4()}"
    assert await store.set_if_absent(key, "x", 1)
    await asyncio.sleep(1.2)
    assert await store.get(key) is None
