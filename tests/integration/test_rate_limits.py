"""Token buckets and the shop's rate limits, the same in memory (an injected clock), on a
real Redis server and on a real 3-master Redis Cluster (the Lua script, with a fixed
"now" passed to it or the server's own TIME). Every Redis key lives under a prefix of
the test's own and is deleted afterwards."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from shopbot.bot.coordination import redis_client
from shopbot.bot.rate_limits.buckets import ALLOWED, Bucket, MemoryTokenBuckets, TokenBuckets
from shopbot.bot.rate_limits.limiter import Category, Limited, RateLimiter, buckets_from
from shopbot.bot.rate_limits.redis_buckets import RedisTokenBuckets
from shopbot.config import Settings
from shopbot.http.serve import free_port
from tests.redis_cluster import keys_by_node

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = 1_700_000_000_000  # a fixed "now", in ms
MINUTE = 60_000


@dataclass
class Store:
    kind: str
    buckets: TokenBuckets
    prefix: str
    client: "Redis | RedisCluster | None" = None


async def remove_keys(client: "Redis | RedisCluster", prefix: str, nodes: list[str]) -> None:
    if nodes:
        held = await keys_by_node(nodes, f"{prefix}*")
        found = set().union(*held.values())
    else:
        assert isinstance(client, Redis)
        found = {key.decode() async for key in client.scan_iter(match=f"{prefix}*")}
    for key in found:
        await client.delete(key)


@asynccontextmanager
async def open_store(request: pytest.FixtureRequest, kind: str) -> AsyncIterator[Store]:
    prefix = f"shopbot:test:rl:{uuid.uuid4().hex}"
    if kind == "memory":
        yield Store("memory", MemoryTokenBuckets(clock=lambda: T0), prefix)
        return
    nodes: list[str] = request.getfixturevalue("redis_cluster") if kind == "cluster" else []
    client = redis_client(None if nodes else REDIS_URL, nodes)
    assert client is not None
    await client.ping()  # a missing server fails the test; it is never skipped
    try:
        yield Store(kind, RedisTokenBuckets(client), prefix, client)
    finally:
        await remove_keys(client, prefix, nodes)
        await client.aclose()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    async with open_store(request, request.param) as opened:
        yield opened


@pytest.fixture(params=["redis", "cluster"])
async def redis_store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    async with open_store(request, request.param) as opened:
        yield opened


async def takes(store: Store, bucket: Bucket, count: int, now_ms: int) -> list[bool]:
    return [
        (await store.buckets.take(f"{store.prefix}:k", bucket, now_ms=now_ms)).allowed
        for _ in range(count)
    ]


async def test_capacity_is_the_limit_plus_the_burst_exactly(store: Store) -> None:
    bucket = Bucket(capacity=3 + 2, refill=3, period_ms=MINUTE)

    assert await takes(store, bucket, 7, T0) == [True] * 5 + [False] * 2


async def test_tokens_come_back_at_the_refill_pace(store: Store) -> None:
    bucket = Bucket(capacity=2, refill=3, period_ms=MINUTE)  # one token every 20 s
    key = f"{store.prefix}:k"
    assert await takes(store, bucket, 2, T0) == [True, True]

    refused = await store.buckets.take(key, bucket, now_ms=T0 + 5_000)
    assert (refused.allowed, refused.retry_after_ms, refused.retry_after_seconds) == (
        False,
        15_000,
        15,
    )
    assert not (await store.buckets.take(key, bucket, now_ms=T0 + 19_999)).allowed
    assert (await store.buckets.take(key, bucket, now_ms=T0 + 20_000)).allowed
    assert not (await store.buckets.take(key, bucket, now_ms=T0 + 20_000)).allowed
    # long idle: full again, never more than the capacity
    assert await takes(store, bucket, 3, T0 + 10 * MINUTE) == [True, True, False]


async def test_a_refusal_is_announced_once_per_window(store: Store) -> None:
    bucket = Bucket(capacity=1, refill=1, period_ms=MINUTE)
    key = f"{store.prefix}:k"
    assert (await store.buckets.take(key, bucket, now_ms=T0)).allowed

    first = await store.buckets.take(key, bucket, now_ms=T0 + 1)
    again = await store.buckets.take(key, bucket, now_ms=T0 + 2)
    late = await store.buckets.take(key, bucket, now_ms=T0 + 59_999)
    assert (first.allowed, first.notify, first.retry_after_ms) == (False, True, 59_999)
    assert (again.notify, late.notify) == (False, False)
    assert (await store.buckets.take(key, bucket, now_ms=T0 + MINUTE)).allowed
    # the next window's first refusal is announced again
    assert (await store.buckets.take(key, bucket, now_ms=T0 + MINUTE + 1)).notify


async def test_keys_expire_once_the_bucket_is_full_again(redis_store: Store) -> None:
    store = redis_store
    assert store.client is not None
    bucket = Bucket(capacity=5, refill=5, period_ms=MINUTE)  # one token every 12 s
    key = f"{store.prefix}:k"
    await store.buckets.take(key, bucket)
    ttl = await store.client.pttl(key)
    assert 0 < ttl <= 12_000

    for _ in range(6):  # empty, and refused: the notice window (60 s) is what lasts
        await store.buckets.take(key, bucket)
    assert 12_000 * 4 < await store.client.pttl(key) <= MINUTE


async def test_concurrent_checks_never_exceed_the_capacity(store: Store) -> None:
    """Atomicity: 60 checks at once (the server's clock) leave exactly 10 allowed."""
    bucket = Bucket(capacity=10, refill=1, period_ms=10 * MINUTE)
    key = f"{store.prefix}:k"

    verdicts = await asyncio.gather(*(store.buckets.take(key, bucket) for _ in range(60)))

    assert sum(v.allowed for v in verdicts) == 10
    assert sum(v.notify for v in verdicts) == 1


def limiter(store: Store, **settings: int) -> RateLimiter:
    values: dict[str, Any] = {
        "rate_limit_messages_per_minute": 3,
        "rate_limit_operations_per_minute": 2,
        "rate_limit_payments_per_minute": 1,
        "rate_limit_burst": 1,
        "rate_limit_global_per_second": 0,
        **settings,
    }
    loaded = Settings(_env_file=None, **values)
    return RateLimiter(store.buckets, buckets_from(loaded), frozenset({900}), prefix=store.prefix)


async def checks(
    limits: RateLimiter, user: int, category: Category, count: int, now_ms: int = T0
) -> list[Limited | None]:
    return [await limits.check(user, category, now_ms=now_ms) for _ in range(count)]


def refused_count(category: str) -> float:
    value = REGISTRY.get_sample_value("shopbot_rate_limited_total", {"category": category})
    return value or 0.0


async def test_each_category_has_its_own_limit_and_admins_have_none(store: Store) -> None:
    limits = limiter(store)
    before = refused_count("message")

    messages = await checks(limits, 7, Category.MESSAGE, 6)
    presses = await checks(limits, 7, Category.OPERATION, 4)
    payments = await checks(limits, 7, Category.PAYMENT, 3)

    assert [m is None for m in messages] == [True] * 4 + [False] * 2
    assert [p is None for p in presses] == [True] * 3 + [False]
    assert [p is None for p in payments] == [True] * 2 + [False]
    assert messages[4] == Limited(Category.MESSAGE, 20, notify=True)  # 3/min: every 20 s
    assert messages[5] == Limited(Category.MESSAGE, 20, notify=False)
    assert payments[2] == Limited(Category.PAYMENT, 60, notify=True)
    assert await checks(limits, 8, Category.MESSAGE, 1) == [None]  # another user
    assert await checks(limits, 900, Category.MESSAGE, 50) == [None] * 50  # an admin
    assert refused_count("message") == before + 2


async def test_the_global_limit_counts_every_user(store: Store) -> None:
    limits = limiter(store, rate_limit_global_per_second=3)
    before = refused_count("global")

    first = [await limits.check(user, Category.MESSAGE, now_ms=T0) for user in (1, 2, 3, 4)]
    again = await limits.check(4, Category.OPERATION, now_ms=T0 + 1)
    other = await limits.check(5, Category.MESSAGE, now_ms=T0 + 2)

    assert first[:3] == [None] * 3
    # 3 a second: the next token in a third of a second, rounded up to 1 s
    assert first[3] == Limited(Category.GLOBAL, 1, notify=True)
    assert again == Limited(Category.GLOBAL, 1, notify=False)  # told once a minute
    assert other == Limited(Category.GLOBAL, 1, notify=True)
    assert await limits.check(6, Category.MESSAGE, now_ms=T0 + 1000) is None  # refilled
    # payments count as the press that started them, not twice
    assert await limits.check(7, Category.PAYMENT, now_ms=T0 + 1000) is None
    assert await limits.check(900, Category.MESSAGE, now_ms=T0 + 1000) is None  # admin
    assert refused_count("global") == before + 3


async def test_a_refused_user_does_not_use_up_the_global_budget(store: Store) -> None:
    limits = limiter(store, rate_limit_global_per_second=5, rate_limit_burst=0)
    flood = await checks(limits, 1, Category.MESSAGE, 20)  # 3 pass, 17 refused by their own

    assert [f is None for f in flood] == [True] * 3 + [False] * 17
    assert {f.category for f in flood if f is not None} == {Category.MESSAGE}
    assert await checks(limits, 2, Category.MESSAGE, 2) == [None, None]  # 5 global tokens


async def test_zero_turns_a_limit_off() -> None:
    memory = MemoryTokenBuckets(clock=lambda: T0)
    limits = limiter(
        Store("memory", memory, "p"),
        rate_limit_messages_per_minute=0,
        rate_limit_operations_per_minute=0,
        rate_limit_payments_per_minute=0,
        rate_limit_global_per_second=0,
    )
    for category in (Category.MESSAGE, Category.OPERATION, Category.PAYMENT):
        assert await checks(limits, 1, category, 100) == [None] * 100
    assert len(memory) == 0


def test_user_keys_share_a_cluster_slot_and_the_global_key_has_its_own() -> None:
    from redis.crc import key_slot

    limits = RateLimiter(MemoryTokenBuckets(), {}, frozenset())
    for user in (1, 42, 10**12):
        slots = {key_slot(limits.user_key(user, c).encode()) for c in Category}
        assert len(slots) == 1
    assert limits.user_key(42, Category.PAYMENT) == "shopbot:rl:{42}:payment"
    assert limits.global_key == "shopbot:rl:{global}"
    assert key_slot(limits.global_key.encode()) == key_slot(b"global")


async def test_on_the_cluster_each_user_is_one_slot_and_users_spread(
    redis_cluster: list[str],
) -> None:
    """The script runs where each user's slot lives (EVALSHA routed by its key), also
    after the nodes forgot it (SCRIPT FLUSH: redis-py loads it again)."""
    client = redis_client(None, redis_cluster)
    assert isinstance(client, RedisCluster)
    prefix = f"shopbot:test:rl:{uuid.uuid4().hex}"
    limits = limiter(Store("cluster", RedisTokenBuckets(client), prefix))
    try:
        for user in range(1, 31):
            for category in (Category.MESSAGE, Category.OPERATION, Category.PAYMENT):
                assert await limits.check(user, category) is None
        await client.script_flush()
        assert await limits.check(31, Category.MESSAGE) is None

        held = await keys_by_node(redis_cluster, f"{prefix}*")
        for user in range(1, 32):
            nodes = {node for node, keys in held.items() if any(f"{{{user}}}" in k for k in keys)}
            assert len(nodes) == 1, (user, nodes)
        assert sum(len(keys) for keys in held.values()) == 30 * 3 + 1
        assert all(held.values()), {node: len(keys) for node, keys in held.items()}
    finally:
        await remove_keys(client, prefix, redis_cluster)
        await client.aclose()


async def test_redis_unreachable_allows_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    """Fail open: rate limiting protects the shop, an outage of it turns nobody away."""
    client = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    buckets = RedisTokenBuckets(client)
    try:
        with caplog.at_level(logging.WARNING, logger="shopbot.bot.rate_limits.redis_buckets"):
            verdict = await buckets.take("shopbot:test:rl:down", Bucket(1, 1, MINUTE))
    finally:
        await client.aclose()

    assert verdict == ALLOWED
    assert "rate limit not checked, request allowed" in caplog.text


async def test_memory_forgets_buckets_that_no_longer_matter() -> None:
    """No unbounded growth without Redis: a bucket full again and past its notice window
    is swept (every SWEEP_EVERY takes), like a Redis key expiring."""
    now = [T0]
    memory = MemoryTokenBuckets(clock=lambda: now[0])
    bucket = Bucket(capacity=2, refill=2, period_ms=MINUTE)  # full again 30 s after one take
    for user in range(MemoryTokenBuckets.SWEEP_EVERY - 1):
        await memory.take(f"user:{user}", bucket)
    assert len(memory) == MemoryTokenBuckets.SWEEP_EVERY - 1

    now[0] = T0 + 30_000
    await memory.take("late", bucket)  # the 1000th take sweeps

    assert len(memory) == 1
