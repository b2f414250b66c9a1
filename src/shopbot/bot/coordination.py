"""Shared state between bot instances: Redis (single node or cluster) or, for one
development process, memory. Code above this module does not care which."""

import time
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster


class Coordination(Protocol):
    async def set_if_absent(self, key: str, value: str, ttl_seconds: int) -> bool: ...

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class RedisCoordination:
    def __init__(self, client: "Redis | RedisCluster") -> None:
        self.client = client

    async def set_if_absent(self, key: str, value: str, ttl_seconds: int) -> bool:
        return bool(await self.client.set(key, value, nx=True, ex=ttl_seconds))

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        await self.client.set(key, value, ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self.client.delete(key)

    async def close(self) -> None:
        await self.client.aclose()


class MemoryCoordination:
    """One process only (development, the demo)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None or entry[1] < time.monotonic():
            self._values.pop(key, None)
            return None
        return entry[0]

    async def set_if_absent(self, key: str, value: str, ttl_seconds: int) -> bool:
        if self._live(key) is not None:
            return False
        self._values[key] = (value, time.monotonic() + ttl_seconds)
        return True

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._values[key] = (value, time.monotonic() + ttl_seconds)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def close(self) -> None:
        self._values.clear()


class SharedRedisCluster(RedisCluster):
    """The cluster client is also aiogram's FSM storage client. `RedisStorage.close()` calls
    `aclose(close_connection_pool=True)`, which only `Redis` accepts: on a plain
    `RedisCluster` the dispatcher's shutdown raised TypeError and `stop_polling()` then
    waited forever."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose()


def redis_client(url: str | None, cluster_nodes: list[str]) -> "Redis | RedisCluster | None":
    if cluster_nodes:
        nodes = [
            ClusterNode(host, int(port)) for host, port in (n.rsplit(":", 1) for n in cluster_nodes)
        ]
        return SharedRedisCluster(startup_nodes=nodes)
    if url:
        return Redis.from_url(url)
    return None
