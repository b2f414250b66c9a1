"""The coordination store behaves the same in memory, on a real Redis server and on a real
3-master Redis Cluster (started by the tests)."""

import uuid
from collections.abc import AsyncIterator

import pytest

from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)
from tests.redis_cluster import keys_by_node

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    if request.param == "memory":
        coordination: Coordination = MemoryCoordination()
    elif request.param == "cluster":
        nodes: list[str] = request.getfixturevalue("redis_cluster")
        client = redis_client(None, nodes)
        assert client is not None
        await client.ping()
        coordination = RedisCoordination(client)
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


async def test_the_cluster_spreads_keys_over_its_nodes(redis_cluster: list[str]) -> None:
    from redis.asyncio import Redis

    client = redis_client(None, redis_cluster)
    assert client is not None
    store = RedisCoordination(client)
    prefix = f"shopbot:test:spread:{uuid.uuid4()}"
    keys = {f"{prefix}:{i}" for i in range(60)}
    try:
        for key in keys:
            assert await store.set_if_absent(key, "x", 60)
        held = await keys_by_node(redis_cluster, f"{prefix}:*")
        for node, found in held.items():
            host, port = node.rsplit(":", 1)
            async with Redis(host=host, port=int(port)) as single:
                for key in found:
                    slot = await single.cluster("KEYSLOT", key)
                    assert await single.cluster("COUNTKEYSINSLOT", slot) >= 1
        assert sum(len(found) for found in held.values()) == len(keys)
        assert set().union(*held.values()) == keys
        assert len(redis_cluster) == 3
        assert all(held.values()), {node: len(found) for node, found in held.items()}
    finally:
        for key in keys:
            await store.delete(key)
        await store.close()


async def test_aiogram_fsm_storage_on_the_cluster_client(redis_cluster: list[str]) -> None:
    """The bot builds aiogram's RedisStorage from this same client (bot/factory.py)."""
    from aiogram.fsm.storage.base import StorageKey
    from aiogram.fsm.storage.redis import RedisStorage

    client = redis_client(None, redis_cluster)
    assert client is not None
    storage = RedisStorage(client)  # type: ignore[arg-type]
    user = uuid.uuid4().int % 10**12
    key = StorageKey(bot_id=1, chat_id=user, user_id=user)
    await storage.set_state(key, "Dialog:step")
    await storage.set_data(key, {"sku": "key", "qty": 2})
    assert await storage.get_state(key) == "Dialog:step"
    assert await storage.get_data(key) == {"sku": "key", "qty": 2}
    await storage.set_state(key, None)
    await storage.set_data(key, {})
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {}
    await storage.close()  # what the dispatcher's shutdown calls
