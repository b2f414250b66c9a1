"""The harness itself, and the first journey through the real bot in both modes."""

import pytest

from shopbot.domain.catalog.models import ProductKind
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user
from tests.e2e.bot_stack import ChatUser, bot_stack


async def buy_the_key_in_russian(user: ChatUser) -> None:
    for label in ("Каталог", "Другое", "Товар key", "Купить за 2.00 USD", "Подтвердить"):
        await user.press(label)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_start_catalog_and_buy(pg_url: str, pg_uow: UnitOfWorkFactory, mode: str) -> None:
    await add_product(pg_uow, "key", price="3.50", stock=["KEY-<1>&"])
    await add_product(pg_uow, "guide", ProductKind.UNLIMITED, price="1.00")
    async with bot_stack(pg_url, mode=mode) as stack:
        alice = stack.user(1001, "Alice <b>", language="en")
        await alice.send("/start")
        assert "Welcome to the shop, Alice &lt;b&gt;" not in alice.last_text()  # stored parsed
        assert "Alice <b>" in alice.last_text()
        await add_user(pg_uow, 1001, balance="5.00")  # credited outside the bot

        await alice.press("Catalog")
        await alice.press("Other")
        await alice.press("Product key")
        assert "In stock: 1" in alice.last_text()
        assert "Product key\n\nPrice: 3.50 USD" in alice.last_text()  # no description line
        await alice.press("Buy for 3.50 USD")
        assert "Your balance: 5.00 USD" in alice.last_text()
        await alice.press("Confirm")

        assert "KEY-<1>&" in alice.last_text()
        async with pg_uow() as uow:
            orders = await uow.orders.list_for_user(1001, 10)
        assert [o.delivery for o in orders] == ["KEY-<1>&"]


async def test_journey_with_redis_for_state_and_dedupe(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    """Several instances share FSM state and the update markers through Redis. On a
    single server the state is read by the script that claims the update
    (bot/update_claim.py): a dialog is routed by it."""
    from aiogram.fsm.storage.base import StorageKey
    from redis.asyncio import Redis

    from shopbot.bot.routers.support import SupportStates
    from tests.e2e.bot_stack import BOT_ID

    await add_product(pg_uow, "key", price="2.00", stock=["KEY-R"])
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    # Each emulator starts update ids at 1 (Telegram never repeats them): forget old runs.
    for key in await redis.keys("shopbot:update:123456:*"):
        await redis.delete(key)
    async with bot_stack(
        pg_url, mode="webhook", admin_ids=[900], redis_url="redis://127.0.0.1:6379/0"
    ) as stack:
        state_key = stack.dispatcher.storage.key_builder.build(  # type: ignore[attr-defined]
            StorageKey(bot_id=BOT_ID, chat_id=1002, user_id=1002), "state"
        )
        await redis.delete(state_key)
        admin = stack.user(900, "Admin")
        await admin.send("/start")
        bob = stack.user(1002, "Bob", language="ru")
        await bob.send("/start")
        await add_user(pg_uow, 1002, balance="2.00")  # already registered by the bot: credits
        await buy_the_key_in_russian(bob)
        assert "KEY-R" in bob.last_text()
        await bob.send("/start")
        await bob.press("Поддержка")
        assert await redis.get(state_key) == (SupportStates.writing.state or "").encode()
        await bob.send("Где мой ключ?")
        assert "Где мой ключ?" in admin.last_text()  # routed by the state read back
        assert await redis.get(state_key) is None
        handled = [d["update_id"] for d in stack.emulator.deliveries() if d.get("ok")]
    try:
        markers = [await redis.get(f"shopbot:update:123456:{u}") for u in handled]
    finally:
        await redis.aclose()
    assert markers == [b"done"] * len(handled)


async def test_webhook_mode_serves_health_and_sets_the_webhook_without_dropping(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    import httpx

    async with bot_stack(pg_url, mode="webhook") as stack:
        base = str(stack.settings.public_base_url)
        async with httpx.AsyncClient(base_url=base) as client:
            health = await client.get("/health")
            ready = await client.get("/health/ready")
            forged = await client.post(
                "/webhook/telegram",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": "no"},
            )
        [set_webhook] = stack.emulator.calls("setWebhook")
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert forged.status_code == 401
    assert set_webhook.params.get("url") == f"{base}/webhook/telegram"
    assert set_webhook.params.get("drop_pending_updates") in (None, "false", False)
    assert set_webhook.params.get("secret_token")


async def test_the_bot_refuses_to_start_without_a_token(tmp_path) -> None:
    from tests.integration.cli.harness import shopbot

    for token in (None, "changeme"):
        env = {} if token is None else {"TELEGRAM_TOKEN": token}
        run = await shopbot(tmp_path, "sqlite+aiosqlite:///x.db", "bot", **env)
        assert run.code == 2
        assert run.stderr.strip().splitlines() == [
            "shopbot: TELEGRAM_TOKEN is not set or is a placeholder; "
            "set it in the environment or in .env"
        ]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_journey_with_a_redis_cluster_for_state_and_dedupe(
    pg_url: str, pg_uow: UnitOfWorkFactory, redis_cluster: list[str], mode: str
) -> None:
    """FSM state and the update markers live in a real 3-master Redis Cluster."""
    from aiogram.fsm.storage.base import StorageKey
    from aiogram.fsm.storage.redis import RedisStorage
    from redis.asyncio.cluster import RedisCluster

    from shopbot.bot.coordination import RedisCoordination, redis_client
    from shopbot.bot.routers.support import SupportStates
    from tests.e2e.bot_stack import BOT_ID
    from tests.redis_cluster import keys_by_node

    await add_product(pg_uow, "key", price="2.00", stock=["KEY-C"])
    cluster = redis_client(None, redis_cluster)
    assert cluster is not None
    try:
        # Each emulator starts update ids at 1 (Telegram never repeats them): forget old runs.
        stale = await keys_by_node(redis_cluster, f"shopbot:update:{BOT_ID}:*")
        for key in set().union(*stale.values()):
            await cluster.delete(key)
        async with bot_stack(
            pg_url, mode=mode, admin_ids=[900], redis_cluster_nodes=redis_cluster
        ) as stack:
            assert isinstance(stack.ctx.coordination, RedisCoordination)
            assert isinstance(stack.ctx.coordination.client, RedisCluster)
            storage = stack.dispatcher.storage
            assert isinstance(storage, RedisStorage)
            assert storage.redis is stack.ctx.coordination.client
            state_key = storage.key_builder.build(
                StorageKey(bot_id=BOT_ID, chat_id=1003, user_id=1003), "state"
            )
            admin = stack.user(900, "Admin")
            await admin.send("/start")
            carol = stack.user(1003, "Carol", language="ru")
            await carol.send("/start")
            await add_user(pg_uow, 1003, balance="2.00")
            await buy_the_key_in_russian(carol)
            assert "KEY-C" in carol.last_text()

            await carol.send("/start")
            await carol.press("Поддержка")
            writing = SupportStates.writing.state
            assert writing is not None
            assert await cluster.get(state_key) == writing.encode()
            await carol.send("Где мой ключ?")
            assert "Где мой ключ?" in admin.last_text()  # routed by the state read back
            assert await cluster.get(state_key) is None
            handled = sorted(stack.updates.finished)
        markers = [await cluster.get(f"shopbot:update:{BOT_ID}:{u}") for u in handled]
        spread = await keys_by_node(redis_cluster, f"shopbot:update:{BOT_ID}:*")
    finally:
        await cluster.aclose()
    assert handled == list(range(1, 11))  # every update the two users produced
    assert markers == [b"done"] * len(handled)
    assert sum(1 for keys in spread.values() if keys) > 1
