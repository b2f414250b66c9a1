"""Redis command timing on real servers: a single Redis and the 3+3 Redis Cluster; every
command of the client is observed under its name, keys never."""

import uuid

from prometheus_client import REGISTRY

from shopbot.bot.coordination import redis_client
from shopbot.observability.metrics.redis_commands import instrument_redis

COUNT = "shopbot_redis_command_duration_seconds_count"


def observed(command: str) -> float:
    return REGISTRY.get_sample_value(COUNT, {"command": command}) or 0.0


async def exercise(url: str | None, nodes: list[str], deletes_timed: int) -> None:
    client = redis_client(url, nodes)
    assert client is not None
    instrument_redis(client)
    key = f"shopbot:test:metrics:{uuid.uuid4().hex}"
    before = {name: observed(name) for name in ("SET", "GET", "DEL")}
    try:
        assert await client.set(key, "1", nx=True, ex=60)
        assert await client.get(key) == b"1"
        assert await client.delete(key) == 1
    finally:
        await client.aclose()
    assert {name: observed(name) - before[name] for name in before} == {
        "SET": 1,
        "GET": 1,
        "DEL": deletes_timed,
    }
    labels = {
        dict(sample.labels)["command"]
        for family in REGISTRY.collect()
        if family.name == "shopbot_redis_command_duration_seconds"
        for sample in family.samples
    }
    assert not any("shopbot" in label or "metrics" in label for label in labels)


async def test_single_redis() -> None:
    await exercise("redis://127.0.0.1:6379/0", [], deletes_timed=1)


async def test_redis_cluster(redis_cluster: list[str]) -> None:
    # redis-py's cluster client sends multi-key commands (DEL, EXISTS, MGET, MSET, ...)
    # as a pipeline per slot, around execute_command: those are not timed (docs/metrics.md).
    await exercise(None, redis_cluster, deletes_timed=0)
