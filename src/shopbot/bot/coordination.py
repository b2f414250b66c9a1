"""Shared state between bot instances: Redis (single node or cluster) or, for one
development process, memory. Code above this module does not care which."""

import time
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from shopbot.bot.redis_failover import ride_out_failover


class Coordination(Protocol):
    async def set_if_absent(self, key: str, value: str, ttl_seconds: int) -> bool: ...

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def extend_if_held(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Restarts `key`'s expiry at `ttl_seconds` if it still holds `value` (one atomic
        step: a claim that lapsed and was taken by another holder is never touched);
        True if it did."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_if_held(self, key: str, value: str) -> bool:
        """Deletes `key` only if it still holds `value` (one atomic step: a claim that
        lapsed and was taken by another holder is left to it); True if it did."""
        ...

    async def close(self) -> None: ...


EXTEND_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
DELETE_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


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

    async def extend_if_held(self, key: str, value: str, ttl_seconds: int) -> bool:
        # one key: a cluster routes the script to the key's master
        done = self.client.eval(EXTEND_IF_HELD, 1, key, value, str(ttl_seconds))
        return bool(await done)

    async def delete(self, key: str) -> None:
        await self.client.delete(key)

    async def delete_if_held(self, key: str, value: str) -> bool:
        done = self.client.eval(DELETE_IF_HELD, 1, key, value)
        return bool(await done)

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

    async def extend_if_held(self, key: str, value: str, ttl_seconds: int) -> bool:
        if self._live(key) != value:
            return False
        self._values[key] = (value, time.monotonic() + ttl_seconds)
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def delete_if_held(self, key: str, value: str) -> bool:
        if self._live(key) != value:
            return False
        self._values.pop(key, None)
        return True

    async def close(self) -> None:
        self._values.clear()


class SharedRedisCluster(RedisCluster):
    """The cluster client is also aiogram's FSM storage client. `RedisStorage.close()` calls
    `aclose(close_connection_pool=True)`, which only `Redis` accepts: on a plain
    `RedisCluster` the dispatcher's shutdown raised TypeError and `stop_polling()` then
    waited forever."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose()


CONNECT_TIMEOUT = 2.0
"""Seconds to connect to a Redis node. redis-py waits for the operating system by
default: a node whose container is gone leaves its address silent (no refusal), and a
connection attempt would hang for minutes (Linux: tcp_syn_retries, ~2 min) instead of
failing into the failover retry."""
COMMAND_TIMEOUT = 5.0
"""Seconds for one command's reply (no blocking commands are used): a partitioned node
fails the command into the failover retry rather than hanging the update."""


def redis_client(
    url: str | None, cluster_nodes: list[str], *, retry_seconds: float = 0
) -> "Redis | RedisCluster | None":
    """A client for REDIS_CLUSTER_NODES ("host:port" seeds) or else REDIS_URL; None when
    neither is set. With `retry_seconds` > 0 every command rides out a failover or a
    restart for that long (bot/redis_failover.py), and redis-py's own retries are turned
    off: they do not wait (a cluster client's) or wait on their own schedule (a single
    server's), and one retry policy with one deadline is easier to reason about. With 0,
    redis-py's defaults apply (the readiness probe wants a quick answer)."""
    client: Redis | RedisCluster
    if cluster_nodes:
        nodes = [
            ClusterNode(host, int(port)) for host, port in (n.rsplit(":", 1) for n in cluster_nodes)
        ]
        # Without full coverage a shard failing over leaves the other shards serving
        # (its own keys raise SlotNotCoveredError, retried above) instead of every
        # command failing while the slot map has a hole; redis-py's re-initialisation
        # also leaked its probe connections when it raised on such a hole.
        if retry_seconds > 0:
            client = SharedRedisCluster(
                startup_nodes=nodes,
                require_full_coverage=False,
                retry=Retry(NoBackoff(), 0),
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=COMMAND_TIMEOUT,
            )
        else:
            client = SharedRedisCluster(
                startup_nodes=nodes,
                require_full_coverage=False,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=COMMAND_TIMEOUT,
            )
    elif url:
        if retry_seconds > 0:
            client = Redis.from_url(
                url,
                retry=Retry(NoBackoff(), 0),
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=COMMAND_TIMEOUT,
            )
        else:
            client = Redis.from_url(
                url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT
            )
    else:
        return None
    ride_out_failover(client, retry_seconds)
    return client
