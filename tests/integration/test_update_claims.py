"""An update's claim (bot/middlewares/dedupe.py) is a lease: kept alive while its handler
runs, lapsing soon after a holder died, never renewed over another holder's claim. On
real Redis (127.0.0.1:6379) and in memory."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.types import Update

from shopbot.bot.coordination import (
    Coordination,
    MemoryCoordination,
    RedisCoordination,
    redis_client,
)
from shopbot.bot.middlewares.dedupe import BUSY_TTL, UpdateDedupeMiddleware, UpdateInProgress

REDIS_URL = "redis://127.0.0.1:6379/0"
BOT_ID = 4243


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


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    made = Bot(f"{BOT_ID}:TEST-token")
    yield made
    await made.session.close()


def an_update() -> tuple[Update, str]:
    update_id = uuid.uuid4().int % 2**31
    return Update(update_id=update_id), f"shopbot:update:{BOT_ID}:{update_id}"


async def test_extend_if_held_renews_only_its_own_claim(store: Coordination) -> None:
    key = f"shopbot:test:{uuid.uuid4()}"
    assert await store.set_if_absent(key, "busy:mine", 1)
    assert await store.extend_if_held(key, "busy:mine", 60)
    await asyncio.sleep(1.2)  # past the first expiry: the renewal moved it
    assert await store.get(key) == "busy:mine"
    assert not await store.extend_if_held(key, "busy:theirs", 60)
    assert await store.get(key) == "busy:mine"
    await store.delete(key)
    assert not await store.extend_if_held(key, "busy:mine", 60)
    assert await store.get(key) is None


async def test_a_live_holder_keeps_its_claim_past_the_ttl(store: Coordination, bot: Bot) -> None:
    """A handler that takes longer than the claim's TTL: a redelivery meanwhile is told
    the update is in progress (not handled twice), and after it the update is done."""
    dedupe = UpdateDedupeMiddleware(store, busy_ttl=1, renew_every=0.2)
    update, key = an_update()
    release = asyncio.Event()
    runs: list[int] = []

    async def slow(event: object, data: dict[str, object]) -> str:
        runs.append(1)
        await release.wait()
        return "handled"

    first = asyncio.create_task(dedupe(slow, update, {"bot": bot}))
    await asyncio.sleep(2.5)  # 2.5 TTLs: the claim lives only through its renewals
    with pytest.raises(UpdateInProgress):
        await dedupe(slow, update, {"bot": bot})
    release.set()
    assert await first == "handled"
    assert await dedupe(slow, update, {"bot": bot}) is None  # a redelivery after it: done
    assert runs == [1]
    assert await store.get(key) == "done"
    await store.delete(key)


async def test_a_dead_holders_claim_lapses_and_the_update_is_handled(
    store: Coordination, bot: Bot
) -> None:
    """An instance killed while handling leaves its claim unrenewed: the redelivery is
    refused while the claim lives, and handled once it lapsed (within the TTL)."""
    dedupe = UpdateDedupeMiddleware(store, busy_ttl=1, renew_every=0.2)
    update, key = an_update()
    assert await store.set_if_absent(key, "busy:killed-instance", 1)

    async def handler(event: object, data: dict[str, object]) -> str:
        return "handled"

    with pytest.raises(UpdateInProgress):
        await dedupe(handler, update, {"bot": bot})
    for _ in range(40):  # the claim lapses after 1 s; wait for it, not for a time
        if await store.get(key) is None:
            break
        await asyncio.sleep(0.1)
    assert await dedupe(handler, update, {"bot": bot}) == "handled"
    assert await store.get(key) == "done"
    await store.delete(key)


def test_a_dead_holders_claim_lapses_within_telegrams_retries() -> None:
    """Telegram's redelivery (the emulator's: 0.2 s doubling, capped at 10 s, 8 attempts,
    the last 22.6 s after the first) reaches past the production claim's TTL with room to
    spare (5 s: the handling and a loaded machine), so a killed instance's update is
    handled by another one before Telegram gives up on it."""
    from shopbot.sandbox.telegram.config import EmulatorConfig

    config = EmulatorConfig(bots={"1:x": (1, "b", "B")})
    delays = [
        min(config.webhook_base_delay * 2**n, config.webhook_max_delay)
        for n in range(config.webhook_attempts - 1)
    ]
    assert sum(delays) > BUSY_TTL + 5


async def test_a_failing_holder_leaves_another_holders_claim(store: Coordination, bot: Bot) -> None:
    """A handler that fails after its claim lapsed (renewals failed, another instance
    took the redelivery) must not delete the other instance's claim: the update would be
    handled a third time."""
    dedupe = UpdateDedupeMiddleware(store, busy_ttl=1, renew_every=60)  # no renewal in time
    update, key = an_update()

    async def fails_late(event: object, data: dict[str, object]) -> str:
        for _ in range(40):  # until the claim lapsed
            if await store.get(key) is None:
                break
            await asyncio.sleep(0.1)
        assert await store.set_if_absent(key, "busy:other-instance", 60)
        raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError, match="the handler failed"):
        await dedupe(fails_late, update, {"bot": bot})

    assert await store.get(key) == "busy:other-instance"
    assert await store.delete_if_held(key, "busy:other-instance")
    assert await store.get(key) is None


async def test_updates_in_flight_share_one_renewer_that_ends_when_idle(
    store: Coordination, bot: Bot
) -> None:
    """Claims taken at different moments all outlive their TTL through one renewer (not
    a task per update); once no update is in flight the renewer ends by itself."""
    dedupe = UpdateDedupeMiddleware(store, busy_ttl=1, renew_every=0.2)
    updates = [an_update() for _ in range(3)]
    release = asyncio.Event()
    renewers: set[object] = set()

    async def slow(event: object, data: dict[str, object]) -> str:
        renewers.add(dedupe._renewer)
        await release.wait()
        return "handled"

    handling = []
    for update, _ in updates:
        handling.append(asyncio.create_task(dedupe(slow, update, {"bot": bot})))
        await asyncio.sleep(0.35)  # each claim taken at another point of the renewal cycle
    await asyncio.sleep(1.5)  # past every claim's own TTL
    for update, key in updates:
        assert (await store.get(key) or "").startswith("busy:")
        with pytest.raises(UpdateInProgress):
            await dedupe(slow, update, {"bot": bot})
    assert len(renewers) == 1
    assert None not in renewers
    release.set()
    assert await asyncio.gather(*handling) == ["handled"] * 3
    renewer = dedupe._renewer
    assert renewer is not None
    await asyncio.wait_for(renewer, 1)  # ends at its next tick: nothing is held
    for _, key in updates:
        assert await store.get(key) == "done"
        await store.delete(key)
