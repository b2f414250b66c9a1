"""Webhook throughput and latency against the real service on PostgreSQL.

    python bench/webhook.py [--requests 2000] [--concurrency 32]

Starts, each in its own process: the webhook service (`shopbot webhook`, uvicorn, one
worker) on a fresh PostgreSQL database, and a bare FastAPI endpoint of the same stack.
Then, from this process, sends signed `paid` webhooks for distinct invoices (each one a
real ledger transaction), then the same webhooks again (duplicates), then the same
number of requests to the bare endpoint, and prints a table. Client and servers share
the machine, so the ratio to the bare endpoint is the figure that travels.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from shopbot.adapters.heleket.signature import signed_webhook_body
from shopbot.http.serve import free_port
from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
KEY = "bench-payment-key-" + "x" * 40


@dataclass
class Result:
    name: str
    requests: int
    concurrency: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    def row(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = self.requests / self.seconds
        codes = ",".join(f"{code}x{count}" for code, count in sorted(self.statuses.items()))
        return (
            f"| {self.name:<32} | {self.requests:>6} | {self.concurrency:>3} | {rate:>8.0f} "
            f"| {p50:>7.1f} | {p99:>7.1f} | {codes} |"
        )


async def fresh_database() -> str:
    name = f"shopbot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(migrate.upgrade, url)
    return url


async def seed(url: str, count: int) -> list[bytes]:
    """One user and one pending invoice per webhook; returns the signed bodies."""
    engine = create_engine(url)
    uows = UnitOfWorkFactory(create_session_factory(engine))
    bodies = []
    async with uows() as uow:
        for n in range(count):
            user_id = 10_000 + n
            await uow.users.register(user_id, username=None, language="en")
            invoice = await uow.topups.create(
                user_id=user_id,
                order_id=f"bench-{n}",
                request_key=f"bench-{n}",
                amount=Decimal("10.00"),
                currency="USD",
            )
            assert invoice is not None
            invoice_uuid = str(uuid.uuid4())
            await uow.topups.attach_gateway(
                invoice.id, uuid=invoice_uuid, url=None, expires_at=None, status="check"
            )
            bodies.append(
                signed_webhook_body(
                    {
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
                    },
                    KEY,
                )
            )
        await uow.commit()
    await engine.dispose()
    return bodies


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def load(name: str, url: str, bodies: list[bytes], concurrency: int) -> Result:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(bodies), concurrency, elapsed, latencies, statuses)


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    options = parser.parse_args()

    url = await fresh_database()
    bodies = await seed(url, options.requests)
    service_port, bare_port = free_port(), free_port()
    service = start(
        [
            sys.executable,
            "-c",
            "from shopbot.cli import main; main()",
            "webhook",
            "--host",
            "127.0.0.1",
            "--port",
            str(service_port),
        ],
        {
            "DATABASE_URL": url,
            "HELEKET_MERCHANT_ID": "bench",
            "HELEKET_API_KEY": KEY,
            "HELEKET_ALLOWED_IPS": "127.0.0.1",
            "RECONCILE_INTERVAL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        },
    )
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {},
    )
    try:
        await wait_ready(f"http://127.0.0.1:{service_port}/health")
        await wait_ready(f"http://127.0.0.1:{bare_port}/docs")
        webhook_url = f"http://127.0.0.1:{service_port}/webhook/heleket"
        results = [
            await load(
                "first-time paid (ledger tx each)", webhook_url, bodies, options.concurrency
            ),
            await load("duplicate deliveries", webhook_url, bodies, options.concurrency),
            await load(
                "bare FastAPI endpoint",
                f"http://127.0.0.1:{bare_port}/bare",
                bodies,
                options.concurrency,
            ),
        ]
    finally:
        for process in (service, bare):
            process.terminate()
            process.wait(timeout=10)
    engine = create_engine(url)
    async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
        report = await uow.ledger.verify()
    await engine.dispose()

    print("| scenario | requests | concurrency | req/s | p50 ms | p99 ms | answers |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for result in results:
        print(result.row())
    bare_rate = results[2].requests / results[2].seconds
    for result in results[:2]:
        ratio = result.requests / result.seconds / bare_rate
        print(f"{result.name}: {ratio:.2f} of the bare endpoint's throughput")
    print(f"ledger after the run: {report.transactions} transactions, sound={report.sound}")


if __name__ == "__main__":
    asyncio.run(main())
