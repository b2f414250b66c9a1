"""Webhook throughput and latency against the real service on PostgreSQL.

    python bench/webhook.py [--invoices 30000] [--seconds 8] [--connections 32]
                            [--metrics on|off|both] [--rounds 1]

Starts, each in its own process: the webhook service (`shopbot webhook`: uvicorn, one
worker) on a fresh PostgreSQL database, and a bare FastAPI endpoint of the same stack.
Load comes from wrk (one thread, Lua script bench/bodies.lua):

1. first-time `paid` webhooks for distinct invoices, each verified and applied as a real
   ledger transaction (the run stops before the bodies run out);
2. the same webhooks again: duplicates, answered 200 after the (uuid, status) claim;
3. the bare endpoint with the same bodies.

wrk, the servers and PostgreSQL share this machine, so the ratio to the bare endpoint is
the figure that travels. `--metrics both` runs 1 and 2 against services with METRICS_ENABLED=false
and =true, `--rounds` of each in ABBA order, each on a fresh database, and prints the
ratio of the medians (the cost of the metrics). Needs `wrk` (apt-get install wrk).
"""

import argparse
import asyncio
import atexit
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from shopbot.adapters.heleket.signature import signed_webhook_body
from shopbot.http.serve import free_port
from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.models import AccountRow, TopupInvoiceRow, UserRow
from shopbot.persistence.types import utcnow
from shopbot.persistence.uow import UnitOfWorkFactory

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
KEY = "bench-payment-key-" + "x" * 40
TELEGRAM_TOKEN = "123456:BENCH-shop_bot_token"


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: str
    cpu_ms: float | None = None
    """CPU time the service process spent per answered request (user + system, from
    /proc/<pid>/stat): unlike throughput, hardly moved by other load on the machine."""
    database_cpu_ms: float | None = None
    """CPU time PostgreSQL's backends serving the bench's database spent per answered
    request (its background writers, shared with everything else, are not counted)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def admin_url() -> str:
    """TEST_POSTGRES_URL's server, as asyncpg takes it."""
    return make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_database() -> str:
    """A new database on TEST_POSTGRES_URL's server with the schema migrated in, dropped
    when this process exits (a bench leaves nothing behind, even when it fails)."""
    name = f"shopbot_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url())
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    atexit.register(drop_database, name)
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(migrate.upgrade, url)
    return url


def drop_database(name: str) -> None:
    """Drops `name`; FORCE ends the connections a killed service may have left to it
    (PostgreSQL 13+)."""

    async def drop() -> None:
        connection = await asyncpg.connect(admin_url())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


async def seed(url: str, count: int, bodies_file: Path) -> None:
    """One user and one pending invoice per webhook; writes the signed bodies, one a line."""
    engine = create_engine(url)
    uows = UnitOfWorkFactory(create_session_factory(engine))
    now = utcnow()
    users, invoices, lines = [], [], []
    for n in range(count):
        user_id, invoice_uuid = 10_000 + n, str(uuid.uuid4())
        users.append(
            {
                "id": user_id,
                "language": "en",
                "is_blocked": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        invoices.append(
            {
                "user_id": user_id,
                "order_id": f"bench-{n}",
                "request_key": f"b-{n}",
                "uuid": invoice_uuid,
                "amount": Decimal("10.00"),
                "currency": "USD",
                "state": "pending",
                "refund_state": "none",
                "gateway_status": "check",
                "created_at": now,
                "updated_at": now,
            }
        )
        payload = {
            "type": "payment",
            "uuid": invoice_uuid,
            "order_id": f"bench-{n}",
            "amount": "10.00",
            "payment_amount": "10.00",
            "payment_amount_usd": "10",
            "is_final": True,
            "status": "paid",
            "currency": "USD",
            "payer_currency": "USDT",
            "payer_amount": "10.00",
            "additional_data": f"user:{user_id}",
        }
        lines.append(signed_webhook_body(payload, KEY).decode())
    async with uows() as uow:
        for start in range(0, count, 5000):
            await uow.session.execute(insert(UserRow), users[start : start + 5000])
            await uow.session.execute(insert(TopupInvoiceRow), invoices[start : start + 5000])
        await uow.commit()
    await engine.dispose()
    await asyncio.to_thread(bodies_file.write_text, "\n".join(lines) + "\n")


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1200):  # a minute: the CLI imports slowly on a loaded machine
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(name: str, url: str, bodies: Path, seconds: int, connections: int) -> Result:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "bodies.lua"),
            url,
            "--",
            str(bodies),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    requests, elapsed = re.search(r"(\d+) requests in ([\d.]+)(s|m)", output).groups()[:2]  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    problems = ", ".join(
        part
        for part in (
            f"{errors.group(1)} non-2xx" if errors else "",
            socket_errors.group(1) if socket_errors else "",
        )
        if part
    )
    return Result(
        name,
        int(requests),
        float(elapsed),
        milliseconds(p50),
        milliseconds(p99),
        problems or "none",
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (proc(5): fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, run: Callable[[], Result]) -> Result:
    """`run()` with the CPU time process `pid` spent during it, per request."""
    before = cpu_seconds(pid)
    result = run()
    result.cpu_ms = (cpu_seconds(pid) - before) * 1000 / max(result.requests, 1)
    return result


async def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `url`'s database (the
    server runs on this machine: its processes' /proc entries are readable)."""
    database = make_url(url).database
    connection = await asyncpg.connect(admin_url())
    try:
        pids = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await connection.close()
    seconds = {}
    for row in pids:
        with contextlib.suppress(OSError):  # a backend that ended meanwhile
            seconds[row["pid"]] = cpu_seconds(row["pid"])
    return seconds


async def measured_with_database(url: str, pid: int, run: Callable[[], Result]) -> Result:
    """`measured`, and the CPU of the database's backends per request (backends that
    appear during the run count from zero; none end, the service's pool keeps them)."""
    before = await backend_cpu(url)
    result = await asyncio.to_thread(measured, pid, run)
    after = await backend_cpu(url)
    spent = sum(seconds - before.get(backend, 0.0) for backend, seconds in after.items())
    result.database_cpu_ms = spent * 1000 / max(result.requests, 1)
    return result


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@dataclass
class Run:
    metrics: bool
    first: Result
    duplicate: Result
    credited: int
    once: bool
    sound: bool


def service_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        "webhook",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


async def run_service(options: argparse.Namespace, metrics: bool) -> Run:
    """Runs 1 and 2 against a fresh database and a fresh service process; METRICS_ENABLED
    is the only difference between the two services of a `--metrics both` run."""
    url = await fresh_database()
    workdir = Path(tempfile.mkdtemp(prefix="shopbot-bench-"))
    bodies = workdir / "bodies.jsonl"
    await seed(url, options.invoices, bodies)
    port, telegram_port = free_port(), free_port()
    # The service tells customers of their payments (TELEGRAM_TOKEN is required): the
    # Telegram emulator answers those notices, as Telegram would.
    telegram = start(
        [
            sys.executable,
            "-m",
            "shopbot.sandbox.telegram",
            "--port",
            str(telegram_port),
            "--token",
            TELEGRAM_TOKEN,
        ],
        {"LOG_LEVEL": "WARNING"},
    )
    service = start(
        service_command(port),
        {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_API_URL": f"http://127.0.0.1:{telegram_port}",
            "DATABASE_URL": url,
            "HELEKET_MERCHANT_ID": "bench",
            "HELEKET_API_KEY": KEY,
            "HELEKET_ALLOWED_IPS": "127.0.0.1",
            "RECONCILE_INTERVAL_SECONDS": "0",
            "LEDGER_CHECK_INTERVAL_SECONDS": "0",
            "METRICS_ENABLED": "true" if metrics else "false",
            "LOG_LEVEL": "WARNING",
        },
    )
    label = "metrics on" if metrics else "metrics off"
    try:
        await wait_ready(f"http://127.0.0.1:{port}/health")
        webhook_url = f"http://127.0.0.1:{port}/webhook/heleket"
        args = (options.seconds, options.connections)
        first = await measured_with_database(
            url,
            service.pid,
            lambda: wrk(f"first-time `paid` (ledger tx each), {label}", webhook_url, bodies, *args),
        )
        # Only bodies the first run delivered, so every request here is a duplicate.
        sent = bodies.read_text().splitlines(keepends=True)[: first.requests]
        duplicates = workdir / "duplicates.jsonl"
        duplicates.write_text("".join(sent))
        duplicate = await measured_with_database(
            url,
            service.pid,
            lambda: wrk(f"duplicate deliveries, {label}", webhook_url, duplicates, *args),
        )
    finally:
        for process in (service, telegram):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    engine = create_engine(url)
    async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
        report = await uow.ledger.verify()
        credited = await uow.session.scalar(
            select(func.count()).where(TopupInvoiceRow.state == "credited")
        )
        balances = await uow.session.scalar(
            select(func.sum(AccountRow.balance)).where(AccountRow.kind == "user")
        )
    await engine.dispose()
    once = report.transactions == credited and balances == Decimal("10.00") * (credited or 0)
    if first.requests >= options.invoices:
        print("warning: the first run used up the seeded invoices; raise --invoices")
    return Run(metrics, first, duplicate, credited or 0, once, report.sound)


async def run_bare(options: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="shopbot-bench-"))
    bodies = workdir / "bodies.jsonl"
    bodies.write_text('{"status": "paid"}\n' * 1000)
    port = free_port()
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {},
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}/docs")
        url = f"http://127.0.0.1:{port}/bare"
        return wrk("bare FastAPI endpoint", url, bodies, options.seconds, options.connections)
    finally:
        bare.terminate()
        bare.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_ratio(runs: list[Run]) -> None:
    """Medians per mode over the rounds, and the ratios on / off."""
    print(
        "| scenario | rounds | req/s off | req/s on | on / off "
        "| CPU ms/req off | CPU ms/req on | on / off |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, pick in (
        ("first-time `paid`", lambda run: run.first),
        ("duplicate deliveries", lambda run: run.duplicate),
    ):
        off = [pick(run) for run in runs if not run.metrics]
        on = [pick(run) for run in runs if run.metrics]
        rate_off = statistics.median(r.rate for r in off)
        rate_on = statistics.median(r.rate for r in on)
        cpu_off = statistics.median(r.cpu_ms or 0 for r in off)
        cpu_on = statistics.median(r.cpu_ms or 0 for r in on)
        print(
            f"| {name} | {len(off)} | {rate_off:.0f} | {rate_on:.0f} | {rate_on / rate_off:.3f} "
            f"| {cpu_off:.3f} | {cpu_on:.3f} | {cpu_on / cpu_off:.3f} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=30000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--metrics",
        choices=["on", "off", "both"],
        default="on",
        help="METRICS_ENABLED of the service; both: services without and with, alternating",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="services per mode (a fresh database each)"
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/webhook.py needs wrk: apt-get install wrk")

    if options.metrics == "both":
        # ABBA order: drift in the shared machine's load falls on both modes alike.
        modes = [m for r in range(options.rounds) for m in ((False, True), (True, False))[r % 2]]
    else:
        modes = [options.metrics == "on"] * options.rounds
    runs = [await run_service(options, metrics) for metrics in modes]
    baseline = await run_bare(options)

    print(
        f"wrk -t1 -c{options.connections} -d{options.seconds}s; "
        f"{options.invoices} invoices seeded; {os.cpu_count()} CPUs shared by everything"
    )
    print(
        "| scenario | requests | req/s | p50 ms | p99 ms | CPU ms/req "
        "| PostgreSQL CPU ms/req | errors | vs bare |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for result in [r for run in runs for r in (run.first, run.duplicate)] + [baseline]:
        print(
            f"| {result.name} | {result.requests} | {result.rate:.0f} | {result.p50_ms:.2f} "
            f"| {result.p99_ms:.2f} | {_ms(result.cpu_ms)} | {_ms(result.database_cpu_ms)} "
            f"| {result.errors} | {result.rate / baseline.rate:.2f} |"
        )
    for run in runs:
        print(
            f"ledger ({'metrics on' if run.metrics else 'metrics off'}): {run.credited} "
            f"invoices credited: exactly once={run.once}, sound={run.sound}"
        )
    if options.metrics == "both":
        print_ratio(runs)


if __name__ == "__main__":
    asyncio.run(main())
