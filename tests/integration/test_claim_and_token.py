"""An update's de-duplication claim and the user's rate-limit token
(`RedisTokenBuckets.claim_and_take`, bot/middlewares/dedupe.py): in one script on a
single Redis server, as two calls on a real 3-master Redis Cluster and in memory; either
way an update takes exactly one token, and a redelivery none. Keys live under prefixes
of the test's own and are deleted afterwards."""

import datetime
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Chat, Message, Update, User

from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)
from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.middlewares.rate_limit import RateLimitMiddleware
from shopbot.bot.rate_limits.buckets import Bucket, MemoryTokenBuckets, TokenBuckets
from shopbot.bot.rate_limits.limiter import Category, RateLimiter
from shopbot.bot.rate_limits.redis_buckets import RedisTokenBuckets

REDIS_URL = "redis://127.0.0.1:6379/0"
BOT_ID = 4244
T0 = 1_700_000_000_000  # a fixed "now", in ms
MINUTE = 60_000


@dataclass
class Stores:
    kind: str
    coordination: Coordination
    buckets: TokenBuckets
    prefix: str


@pytest.fixture(params=["memory", "redis", "cluster"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    prefix = f"shopbot:test:claims:{uuid.uuid4().hex}"
    if request.param == "memory":
        yield Stores("memory", MemoryCoordination(), MemoryTokenBuckets(), prefix)
        return
    nodes: list[str] = (
        request.getfixturevalue("redis_cluster") if request.param == "cluster" else []
    )
    client = redis_client(None if nodes else REDIS_URL, nodes)
    assert client is not None
    await client.ping()  # a missing server fails the test; it is never skipped
    coordination = RedisCoordination(client)
    yield Stores(request.param, coordination, RedisTokenBuckets(client), prefix)
    await coordination.close()


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    made = Bot(f"{BOT_ID}:TEST-token")
    yield made
    await made.session.close()


async def test_one_script_claims_and_takes_a_token_only_when_it_claims() -> None:
    client = redis_client(REDIS_URL, [])
    assert client is not None
    buckets = RedisTokenBuckets(client)
    assert buckets.one_server
    prefix = f"shopbot:test:claims:{uuid.uuid4().hex}"
    claim_key, bucket_key = f"{prefix}:update", f"{prefix}:{{7}}:message"
    bucket = Bucket(capacity=2, refill=1, period_ms=MINUTE)
    try:
        held, verdict = await buckets.claim_and_take(
            claim_key, "busy:first", 15, bucket_key, bucket, now_ms=T0
        )
        assert held is None
        assert verdict is not None
        assert verdict.allowed
        assert await client.get(claim_key) == b"busy:first"
        assert 14 <= await client.ttl(claim_key) <= 15
        # A second claim finds the first and takes no token.
        held, verdict = await buckets.claim_and_take(
            claim_key, "busy:second", 15, bucket_key, bucket, now_ms=T0
        )
        assert (held, verdict) == ("busy:first", None)
        assert (await buckets.take(bucket_key, bucket, now_ms=T0)).allowed  # the 2nd token
        assert not (await buckets.take(bucket_key, bucket, now_ms=T0)).allowed
        # Against a bucket with no token left, the claim is still taken: refused, told.
        held, verdict = await buckets.claim_and_take(
            f"{claim_key}:2", "busy:third", 15, bucket_key, bucket, now_ms=T0
        )
        assert held is None
        assert verdict is not None
        assert not verdict.allowed
        assert verdict.retry_after_ms == MINUTE
        assert await client.get(f"{claim_key}:2") == b"busy:third"
    finally:
        await client.delete(claim_key, f"{claim_key}:2", bucket_key)
        await client.aclose()


def message_update(update_id: int, user_id: int) -> Update:
    person = User(id=user_id, is_bot=False, first_name="A")
    message = Message(
        message_id=update_id,
        date=datetime.datetime.now(datetime.UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=person,
        text="/start",
    )
    return Update(update_id=update_id, message=message)


async def test_each_update_takes_one_token_and_a_redelivery_none(stores: Stores, bot: Bot) -> None:
    """Through both middlewares as the dispatcher stacks them: two updates and a
    redelivery of the first leave exactly one of three tokens."""
    bucket = Bucket(capacity=3, refill=1, period_ms=MINUTE)
    buckets: dict[Category, Bucket | None] = {Category.MESSAGE: bucket}
    limiter = RateLimiter(stores.buckets, buckets, frozenset(), prefix=stores.prefix)
    dedupe = UpdateDedupeMiddleware(stores.coordination, limiter=limiter)
    assert (dedupe._together is not None) is (stores.kind == "redis")
    limit = RateLimitMiddleware(limiter)
    user_id = uuid.uuid4().int % 2**40
    handled: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> str:
        handled.append(event.update_id)
        return "handled"

    async def inner(event: Any, data: dict[str, Any]) -> Any:
        return await limit(handler, event, data)

    first, second = (uuid.uuid4().int % 2**31 for _ in range(2))
    keys = [f"shopbot:update:{BOT_ID}:{u}" for u in (first, second)]
    try:
        for update_id in (first, second, first):
            update = message_update(update_id, user_id)
            data: dict[str, Any] = {"bot": bot, "event_from_user": update.message.from_user}  # type: ignore[union-attr]
            await dedupe(inner, update, data)
        assert handled == [first, second]
        for key in keys:
            assert await stores.coordination.get(key) == "done"
        own = limiter.user_key(user_id, Category.MESSAGE)
        assert (await stores.buckets.take(own, bucket)).allowed  # the third token
        assert not (await stores.buckets.take(own, bucket)).allowed
    finally:
        for key in keys:
            await stores.coordination.delete(key)
        if isinstance(stores.coordination, RedisCoordination):
            await stores.coordination.delete(limiter.user_key(user_id, Category.MESSAGE))
