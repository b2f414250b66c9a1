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
from aiogram import Bot, Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Chat, Message, Update, User
from redis.asyncio import Redis

from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)
from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.middlewares.rate_limit import RateLimitMiddleware
from shopbot.bot.middlewares.state import DeferredStateRead, ReadState
from shopbot.bot.rate_limits.buckets import Bucket, MemoryTokenBuckets, TokenBuckets, Verdict
from shopbot.bot.rate_limits.limiter import Category, RateLimiter
from shopbot.bot.rate_limits.redis_buckets import RedisTokenBuckets
from shopbot.bot.update_claim import Claimed, Held, RedisUpdateClaim

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


async def test_one_script_claims_then_takes_a_token_and_reads_the_state() -> None:
    client = redis_client(REDIS_URL, [])
    assert isinstance(client, Redis)
    script = RedisUpdateClaim(client)
    buckets = RedisTokenBuckets(client)
    prefix = f"shopbot:test:claims:{uuid.uuid4().hex}"
    claim_key, bucket_key, state_key = (f"{prefix}:{part}" for part in ("u", "{7}:m", "state"))
    bucket = Bucket(capacity=2, refill=1, period_ms=MINUTE)
    await client.set(state_key, "Dialog:amount")
    try:
        answer = await script.claim(
            claim_key, "busy:first", 15, token=(bucket_key, bucket), state_key=state_key, now_ms=T0
        )
        assert answer == Claimed(Verdict(True), "Dialog:amount")
        assert await client.get(claim_key) == b"busy:first"
        assert 14 <= await client.ttl(claim_key) <= 15
        # A second claim finds the first, and takes no token.
        answer = await script.claim(
            claim_key, "busy:second", 15, token=(bucket_key, bucket), state_key=state_key, now_ms=T0
        )
        assert answer == Held("busy:first")
        assert (await buckets.take(bucket_key, bucket, now_ms=T0)).allowed  # the 2nd token
        assert not (await buckets.take(bucket_key, bucket, now_ms=T0)).allowed
        # Against an empty bucket the claim is still taken: refused, to be told.
        await client.delete(state_key)
        answer = await script.claim(
            f"{claim_key}:2",
            "busy:3",
            15,
            token=(bucket_key, bucket),
            state_key=state_key,
            now_ms=T0,
        )
        assert answer == Claimed(Verdict(False, MINUTE, False), None)  # told in this window
        # Neither a token nor a state asked for: the claim alone.
        assert await script.claim(f"{claim_key}:3", "busy:4", 15) == Claimed(None, None)
        assert await client.get(f"{claim_key}:3") == b"busy:4"
    finally:
        await client.delete(*(f"{claim_key}{n}" for n in ("", ":2", ":3")), bucket_key, state_key)
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
    assert (dedupe._script is not None) is (stores.kind == "redis")
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


async def test_handlers_see_the_state_read_once_with_the_claim_where_it_can(
    stores: Stores, bot: Bot
) -> None:
    """A dispatcher stacked as bot/factory.py stacks it (aiogram's state read deferred):
    the handler sees the user's state, set or not; on one server the update costs the
    claim's script and the "done" SET, on a cluster and in memory the calls one by one."""
    client = (
        stores.coordination.client if isinstance(stores.coordination, RedisCoordination) else None
    )
    storage: BaseStorage = RedisStorage(client) if client is not None else MemoryStorage()  # type: ignore[arg-type]
    dispatcher = Dispatcher(storage=storage, disable_fsm=True)
    bucket = Bucket(capacity=5, refill=1, period_ms=MINUTE)
    limiter = RateLimiter(
        stores.buckets, {Category.MESSAGE: bucket}, frozenset(), prefix=stores.prefix
    )
    dispatcher.update.outer_middleware(DeferredStateRead.like(dispatcher.fsm))
    dispatcher.update.outer_middleware(UpdateDedupeMiddleware(stores.coordination, limiter=limiter))
    dispatcher.update.outer_middleware(RateLimitMiddleware(limiter))
    dispatcher.update.outer_middleware(ReadState())
    seen: list[str | None] = []

    @dispatcher.message()
    async def handler(message: Message, raw_state: str | None) -> None:
        seen.append(raw_state)

    commands: list[str] = []
    if client is not None:
        execute = client.execute_command

        async def counted(*args: Any, **options: Any) -> Any:
            commands.append(str(args[0]))
            return await execute(*args, **options)

        client.execute_command = counted  # type: ignore[method-assign]
    user_id = uuid.uuid4().int % 2**40
    context = FSMContext(storage, StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id))
    update_ids = [uuid.uuid4().int % 2**31 for _ in range(3)]
    try:
        await dispatcher.feed_update(bot, message_update(update_ids[0], user_id))
        await context.set_state("Dialog:amount")
        commands.clear()
        await dispatcher.feed_update(bot, message_update(update_ids[1], user_id))
        one_update = list(commands)
        await context.clear()
        await dispatcher.feed_update(bot, message_update(update_ids[2], user_id))
        assert seen == [None, "Dialog:amount", None]
        if stores.kind == "redis":
            assert one_update == ["EVALSHA", "SET"]
        elif stores.kind == "cluster":  # the claim, the token, the state, "done"
            assert one_update == ["SET", "EVALSHA", "GET", "SET"]
    finally:
        if client is not None:
            client.execute_command = execute  # type: ignore[method-assign]
        for update_id in update_ids:
            await stores.coordination.delete(f"shopbot:update:{BOT_ID}:{update_id}")
        await stores.coordination.delete(limiter.user_key(user_id, Category.MESSAGE))
        await context.clear()
