"""Logs of the real processes: INFO lines appear from the start, LOG_FORMAT=json gives one
object per line with the bound ids, and no secret reaches stdout or stderr, tracebacks
included, even at DEBUG with failing peers and bad requests (issue 10, item 4)."""

import asyncio
import base64
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import make_url

from shopbot.adapters.heleket.php_json import php_json_encode
from shopbot.adapters.heleket.signature import signed_webhook_body
from tests.integration.cli.harness import Shop, clean_env

TOKEN = "7312345678:AAHlogsSecretTokenValue_9x-Q"
WEBHOOK_SECRET = "whsecret-logs-4f1c9e27"
API_KEY = "hk-api-logs-7d3b1a55"
PAYOUT_KEY = "hk-payout-logs-2e8c0f"
DB_PASSWORD = "dbpass-logs-5a9c31"  # PostgreSQL here trusts loopback: any password works
MERCHANT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
WRONG_BODY = php_json_encode({"type": "payment", "uuid": "u-1", "status": "paid", "sign": "0" * 32})


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def secrets_in(output: str) -> list[str]:
    """The secrets (and the Heleket signing strings: base64(json) + key) found in output."""
    signing = base64.b64encode(WRONG_BODY.encode()).decode() + API_KEY
    candidates = [TOKEN, TOKEN.split(":")[1], WEBHOOK_SECRET, API_KEY, PAYOUT_KEY, DB_PASSWORD]
    return [secret for secret in [*candidates, signing] if secret in output]


@dataclass
class Process:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def environment(shop: Shop, **extra: str) -> dict[str, str]:
    url = make_url(shop.url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    dead = f"http://127.0.0.1:{closed_port()}"
    return clean_env(
        url,
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HELEKET_MERCHANT_ID=MERCHANT,
        HELEKET_API_KEY=API_KEY,
        HELEKET_PAYOUT_KEY=PAYOUT_KEY,
        TELEGRAM_API_URL=dead,
        HELEKET_API_URL=dead,
        PUBLIC_BASE_URL="https://shop.example.com",
        HELEKET_ALLOWED_IPS="127.0.0.1",
        ADMIN_IDS="111",
        LOG_LEVEL="DEBUG",
        **extra,
    )


@asynccontextmanager
async def running(
    shop: Shop, *args: str, grace: float = 0, **env: str
) -> AsyncIterator[list[Process]]:
    """`shopbot *args` in the background; the list gets its outcome once it ended
    (on leaving, it gets `grace` seconds to end by itself, then is terminated)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        *args,
        cwd=shop.cwd,
        env=environment(shop, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    outcome: list[Process] = []
    try:
        yield outcome
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=grace)
        if process.returncode is None:
            process.terminate()
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        outcome.append(Process(process.returncode, stdout.decode(), stderr.decode()))


async def run_to_end(shop: Shop, *args: str, **env: str) -> Process:
    """Waits for the process to give up by itself (a loaded machine imports slowly)."""
    async with running(shop, *args, grace=150, **env) as outcome:
        pass
    return outcome[0]


async def wait_until_up(base: str) -> None:
    """Polls /health; a loaded machine takes tens of seconds to import the service."""
    deadline = asyncio.get_running_loop().time() + 120
    async with httpx.AsyncClient(base_url=base) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise AssertionError(f"{base} did not come up")


async def webhook_service_run(shop: Shop, log_format: str) -> tuple[Process, list[httpx.Response]]:
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    answers = []
    async with running(
        shop, "webhook", WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port), LOG_FORMAT=log_format
    ) as outcome:
        await wait_until_up(base)
        async with httpx.AsyncClient(base_url=base) as client:
            post = "/webhook/heleket"
            answers.append(
                await client.post(post, content=WRONG_BODY, headers={"X-Request-ID": "req-wrong-1"})
            )
            unknown = {"type": "payment", "uuid": "u-2", "order_id": "nope", "status": "paid"}
            answers.append(await client.post(post, content=signed_webhook_body(unknown, API_KEY)))
            answers.append(await client.post(post, content=b"{not json"))
            answers.append(await client.get("/health", headers={"X-Request-ID": "bad id <script>"}))
    return outcome[0], answers


async def test_the_webhook_service_logs_from_its_first_line_without_secrets(shop: Shop) -> None:
    process, answers = await webhook_service_run(shop, "console")

    assert [answer.status_code for answer in answers[:1]] == [401]
    assert "starting" in process.stderr
    assert "role=webhook" in process.stderr
    assert "bad signature" in process.stderr  # the WARNING, and its INFO access line
    assert secrets_in(process.stdout + process.stderr) == []
    assert "postgresql+asyncpg://postgres:***@127.0.0.1:5432/" in process.stderr
    # `running` stops it with SIGTERM (as `docker stop` does): a clean stop, exit 0, after
    # the composition root closed the pool (uvicorn used to re-raise the signal and die).
    assert process.code == 0, process.stderr[-2000:]
    assert "Application shutdown complete" in process.stderr
    assert "Traceback" not in process.stderr


async def test_json_lines_carry_timestamp_level_logger_event_and_request_id(shop: Shop) -> None:
    process, answers = await webhook_service_run(shop, "json")

    records = [json.loads(line) for line in process.lines]  # every line is one object
    assert all({"timestamp", "level", "logger", "event"} <= set(r) for r in records)
    assert all(r["timestamp"].endswith("Z") for r in records)
    startup = next(r for r in records if r["event"] == "starting")
    assert (startup["role"], startup["logger"], startup["level"]) == (
        "webhook",
        "shopbot.startup",
        "info",
    )
    assert startup["listening"].startswith("127.0.0.1:")
    assert startup["heleket_api"].startswith("http://127.0.0.1:")
    refused = [r for r in records if "bad signature" in r["event"]]
    assert refused
    assert all(r["request_id"] == "req-wrong-1" for r in refused)
    assert answers[0].headers["X-Request-ID"] == "req-wrong-1"
    made = answers[3].headers["X-Request-ID"]  # a header that is not a sane id is replaced
    assert len(made) == 32
    assert made != "bad id"
    assert secrets_in(process.stdout + process.stderr) == []


async def test_the_bot_in_polling_mode_fails_on_a_dead_telegram_without_secrets(
    shop: Shop,
) -> None:
    port = closed_port()
    process = await run_to_end(
        shop, "bot", "--host", "127.0.0.1", "--port", str(port), BOT_MODE="polling"
    )

    assert process.code != 0
    assert "starting" in process.stderr
    assert "role=bot" in process.stderr
    assert f"listening=127.0.0.1:{port}" in process.stderr  # its health server
    # One line that says what is wrong, with a timestamp, instead of a chained traceback.
    assert "cannot reach the Telegram Bot API at http://127.0.0.1:" in process.stderr
    assert "Traceback" not in process.stderr
    assert secrets_in(process.stdout + process.stderr) == []


async def test_the_bot_in_webhook_mode_fails_on_a_dead_telegram_without_secrets(
    shop: Shop,
) -> None:
    port = closed_port()
    process = await run_to_end(
        shop, "bot", "--host", "127.0.0.1", "--port", str(port), BOT_MODE="webhook"
    )

    assert process.code != 0
    assert f"listening=127.0.0.1:{port}" in process.stderr
    assert "cannot reach the Telegram Bot API at http://127.0.0.1:" in process.stderr
    assert secrets_in(process.stdout + process.stderr) == []
