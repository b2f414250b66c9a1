"""The real bot's `/metrics` (webhook mode: beside Telegram's webhook; polling mode: on its
health server) while simulated users talk to it through the Telegram emulator: updates by
type, handler and outcome, Bot API calls by method and result (a real 429 from the
emulator's flood control), and label sets that do not grow with the number of users."""

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.bot.runtime import health_app
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.observability.health import ReadinessProbe
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.e2e.bot_stack import BotStack, bot_stack
from tests.metrics_scrape import Series, parse, series, value


async def scrape(client: httpx.AsyncClient) -> dict[Series, float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    return parse(answer.text)


async def talk(stack: BotStack, first: int, count: int) -> None:
    for user_id in range(first, first + count):
        user = stack.user(user_id, f"User {user_id}")
        await user.send("/start")
        await user.press("Catalog")
        await user.send(f"free text {user_id}")


def shopbot_series(samples: dict[Series, float]) -> set[Series]:
    return series(samples, "shopbot_")


async def test_updates_are_counted_and_labels_stay_bounded(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with (
        bot_stack(pg_url, mode="webhook") as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        before = await scrape(client)
        await talk(stack, 5000, 5)
        warm = await scrape(client)
        await talk(stack, 6000, 30)
        after = await scrape(client)

    start = {"update_type": "message", "outcome": "ok"}
    handled = {
        dict(labels)["handler"]
        for name, labels in shopbot_series(after)
        if name == "shopbot_updates_total" and dict(labels)["outcome"] == "ok"
    }
    assert handled, "no handled update was counted"
    messages = sum(
        value(after, "shopbot_updates_total", **start, handler=h)
        - value(before, "shopbot_updates_total", **start, handler=h)
        for h in handled
    )
    assert messages == 2 * 35  # /start and the free text of each of the 35 users
    presses = sum(
        value(after, "shopbot_updates_total", update_type="callback_query", outcome="ok", handler=h)
        for h in handled
    ) - sum(
        value(
            before, "shopbot_updates_total", update_type="callback_query", outcome="ok", handler=h
        )
        for h in handled
    )
    assert presses == 35
    sent = value(after, "shopbot_telegram_api_requests_total", method="sendMessage", result="ok")
    assert (
        sent
        - value(before, "shopbot_telegram_api_requests_total", method="sendMessage", result="ok")
        >= 35
    )
    webhook = {"handler": "/webhook/telegram", "method": "POST", "code": "200"}
    assert (
        value(after, "shopbot_http_requests_total", **webhook)
        - value(warm, "shopbot_http_requests_total", **webhook)
        == 3 * 30
    )
    # Thirty more users, ninety more updates: not one new series.
    assert shopbot_series(after) == shopbot_series(warm)
    for _name, labels in shopbot_series(after):
        for label in dict(labels).values():
            assert "6000" not in label
            assert "free text" not in label


async def test_a_telegram_429_is_counted_as_retry_after(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with (
        bot_stack(pg_url, mode="webhook") as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
        httpx.AsyncClient(base_url=stack.settings.telegram_api_url) as telegram,
    ):
        before = await scrape(client)
        flood = await telegram.post("/sandbox/flood", json={"per_chat": None, "global": 1})
        assert flood.status_code == 200
        for user_id in (7001, 7002, 7003):
            user = stack.user(user_id)
            await user.send("/start")
        await telegram.post("/sandbox/flood", json={"per_chat": None, "global": None})
        await stack.idle()
        after = await scrape(client)

    limited = "shopbot_telegram_api_requests_total"
    moved = value(after, limited, method="sendMessage", result="retry_after") - value(
        before, limited, method="sendMessage", result="retry_after"
    )
    assert moved >= 1
    failed = {"update_type": "message", "outcome": "error", "handler": "start.start"}
    # The refused reply fails its update (raised for Telegram's redelivery).
    assert (
        value(after, "shopbot_updates_total", **failed)
        - value(before, "shopbot_updates_total", **failed)
        >= 1
    )


async def test_polling_health_server_serves_metrics(pg_engine: AsyncEngine) -> None:
    async with (
        serve_aiohttp(health_app(ReadinessProbe(pg_engine))) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        await client.get("/health")
        await client.get("/no/such/path/42")
        samples = await scrape(client)
    assert (
        value(samples, "shopbot_http_requests_total", handler="/health", method="GET", code="200")
        >= 1
    )
    handlers = {dict(labels)["handler"] for _, labels in series(samples, "shopbot_http_requests")}
    assert "unmatched" in handlers
    assert not any("42" in h for h in handlers)


async def test_redis_commands_are_timed_by_command(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with (
        bot_stack(pg_url, mode="webhook", redis_url="redis://127.0.0.1:6379/0") as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        before = await scrape(client)
        await stack.user(8001, "Redis").send("/start")
        after = await scrape(client)

    name = "shopbot_redis_command_duration_seconds_count"
    commands = {dict(labels)["command"] for sample, labels in series(after, name)}
    # The update's claim, with its rate-limit token and FSM state read, is one script on
    # a single server (bot/update_claim.py); its "done" SET may come after the answer.
    assert "EVALSHA" in commands
    assert value(after, name, command="EVALSHA") > value(before, name, command="EVALSHA")
    assert all(command.isupper() for command in commands)
