"""The bot in webhook mode answers /health/ready from the same port as Telegram's webhook,
naming the database, the migrations and the Redis it coordinates through."""

import socket

import httpx

from tests.e2e.bot_stack import bot_stack

REDIS_URL = "redis://127.0.0.1:6379/0"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_ready_names_database_migrations_and_redis(pg_url: str) -> None:
    async with (
        bot_stack(pg_url, mode="webhook", redis_url=REDIS_URL) as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        ready = await client.get("/health/ready")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }


async def test_not_ready_while_its_redis_is_down_but_still_alive(pg_url: str) -> None:
    dead_redis = f"redis://127.0.0.1:{closed_port()}/0"
    async with (
        bot_stack(pg_url, mode="webhook", redis_url=dead_redis) as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        ready = await client.get("/health/ready")
        alive = await client.get("/health")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "redis": "down: connection refused"},
    }
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
