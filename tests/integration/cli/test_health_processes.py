"""Health of the real processes: `shopbot bot` in polling mode serves /health and
/health/ready on its --port while it polls the Telegram emulator, and stops cleanly on
SIGTERM; `shopbot healthcheck` exits 0 only on a 200 (Docker's HEALTHCHECK contract)."""

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from shopbot.composition.webhook import webhook_service
from shopbot.http.serve import free_port, serve
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.sandbox.telegram import EMULATOR, Emulator, EmulatorConfig, create_app
from tests.integration.cli.harness import Run, Shop, clean_env, shopbot
from tests.integration.cli.test_logging import closed_port, wait_until_up
from tests.integration.webhook_fixtures import webhook_settings

TOKEN = "7312345678:AAHhealthTokenValue_4k-Q"
ALICE = 1001


async def healthcheck(cwd: Path, *args: str, **env: str) -> Run:
    """`shopbot healthcheck *args` with no shopbot setting but `env` (HEALTHCHECK_URL)."""
    return await shopbot(cwd, None, "healthcheck", *args, **env)


@asynccontextmanager
async def telegram() -> AsyncIterator[tuple[str, Emulator]]:
    app = create_app(EmulatorConfig(bots={TOKEN: (7312345678, "health_test_bot", "Shop")}))
    async with serve_aiohttp(app) as url:
        yield url, app[EMULATOR]


async def bot_reply(emulator: Emulator, user: int) -> str:
    """The bot's first answer to `user`, waited for up to 60 s (a loaded machine)."""
    async with asyncio.timeout(60):
        while True:
            answers = [m.text or "" for m in emulator.messages(user) if m.sender == "bot"]
            if answers:
                return answers[0]
            await asyncio.sleep(0.2)


async def start_bot(
    shop: Shop, port: int, telegram_url: str, mode: str
) -> asyncio.subprocess.Process:
    """`shopbot bot` on 127.0.0.1:`port` against the Telegram emulator at `telegram_url`."""
    env = clean_env(
        shop.url,
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram_url,
        BOT_MODE=mode,
        TELEGRAM_WEBHOOK_SECRET="health-webhook-secret",
        PUBLIC_BASE_URL="https://shop.example.com",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        "bot",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=shop.cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_polling_bot_serves_health_while_polling_and_stops_on_sigterm(
    shop: Shop,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with telegram() as (telegram_url, emulator):
        process = await start_bot(shop, port, telegram_url, "polling")
        try:
            await wait_until_up(base)
            async with httpx.AsyncClient(base_url=base) as client:
                ready = await client.get("/health/ready")
            check = await healthcheck(shop.cwd, HEALTHCHECK_URL=f"{base}/health/ready")
            emulator.create_user(ALICE, "Alice", language_code="en")
            emulator.send_text(ALICE, "/start")
            reply = await bot_reply(emulator, ALICE)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        after = await healthcheck(shop.cwd, f"{base}/health")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert (check.code, check.stderr) == (0, ""), check.output
    assert check.stdout.strip() == (
        f'{base}/health/ready answered 200: {{"status": "ok", "checks": {{"database": "ok", '
        '"migrations": "ok"}}'
    )
    assert reply  # polling ran beside the health server
    assert emulator.calls("deleteWebhook")
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert (after.code, after.stderr.strip()) == (
        1,
        f"{base}/health: no answer (connection refused)",
    )


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_taken_port_stops_the_bot_with_one_line(shop: Shop, mode: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with telegram() as (telegram_url, _):
            process = await start_bot(shop, port, telegram_url, mode)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=150)

    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: " in stderr.decode()
    assert "address already in use" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_healthcheck_fails_on_a_503_and_names_what_answered(tmp_path: Path) -> None:
    dead = f"postgresql+asyncpg://shop:pw@127.0.0.1:{closed_port()}/shop"
    async with webhook_service(webhook_settings(dead)) as service, serve(service.app) as base:
        not_ready = await healthcheck(tmp_path, f"{base}/health/ready")
        alive = await healthcheck(tmp_path, HEALTHCHECK_URL=f"{base}/health")

    assert not_ready.code == 1
    assert not_ready.stdout == ""
    assert not_ready.stderr.strip() == (
        f'{base}/health/ready answered 503: {{"status":"unavailable","checks":{{"database":'
        '"down: connection refused","migrations":"unknown: the database is down"}}'
    )
    assert (alive.code, alive.stdout.strip()) == (
        0,
        f'{base}/health answered 200: {{"status":"ok"}}',
    )


async def test_healthcheck_does_not_follow_a_redirect(tmp_path: Path) -> None:
    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("https://example.com/health/ready")

    app = web.Application()
    app.router.add_get("/health/ready", moved)
    async with serve_aiohttp(app) as base:
        run = await healthcheck(tmp_path, f"{base}/health/ready")

    assert run.code == 1
    assert run.stderr.startswith(f"{base}/health/ready answered 301")


async def test_healthcheck_without_a_url_asks_the_bot_default_and_refuses_nonsense(
    tmp_path: Path,
) -> None:
    default = await healthcheck(tmp_path)
    nonsense = await healthcheck(tmp_path, HEALTHCHECK_URL="ftp://127.0.0.1/health")

    # Whatever listens on 8080 here (likely nothing), the line names the default URL.
    assert default.output.startswith("http://127.0.0.1:8080/health/ready")
    assert (nonsense.code, nonsense.stderr.strip()) == (
        1,
        "'ftp://127.0.0.1/health' is not an http:// or https:// URL",
    )
