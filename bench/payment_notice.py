"""From a Heleket `paid` webhook to the customer's notice reaching Telegram: p50/p99.

    python bench/payment_notice.py [--invoices 200] [--rate 8]

Starts, each in its own process on loopback: the Telegram emulator (bench/telegram_users.py,
the customers' chats open), the webhook service (`shopbot webhook`, a fresh PostgreSQL
database with one user and one pending invoice per webhook: bench/webhook.py's seed) and
nginx with the production config (deploy/nginx, its Heleket limit of 10 r/s with a burst
of 50 left in place) in front of it. The benchmark then posts one signed first-time
`paid` webhook per invoice through nginx at a steady `--rate` a second (open loop: a slow
answer does not delay the next send), and afterwards the same bodies again (duplicates:
verified and answered after the `(uuid, status)` claim, no ledger work and no notice) as
the baseline of the same path.

A notice's latency is the emulator's clock (`time.time()` when the sendMessage request
reached it, GET /sandbox/calls) minus this process's clock when it started sending the
webhook: one machine, one clock. Checks that every customer got exactly one notice.
"""

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import (
    TOKEN,
    busy_fraction,
    children,
    free_port,
    machine_ticks,
    rss_kib,
    sent_messages,
    start,
    start_emulator,
    start_nginx,
    stop,
    total_cpu,
    wait_ready,
)
from bench.webhook import KEY, fresh_database, seed, service_command

FIRST_USER = 10_000
"""bench/webhook.py's seed gives invoice n to user 10 000 + n."""
WARM_UP = 20
"""Invoices paid first and not counted (imports, connection pools, prepared statements)."""


def split(lines: list[str]) -> tuple[list[str], list[str]]:
    return lines[:WARM_UP], lines[WARM_UP:]


@dataclass
class Sent:
    user_id: int
    started: float  # time.time() when the request began
    answered: float
    status: int


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def post_all(url: str, bodies: list[str], rate: float, first_user: int) -> list[Sent]:
    """Each body at its slot of a steady schedule (`rate` a second), without waiting for
    earlier answers; body n is user first_user + n's invoice."""
    results: list[Sent] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def post(n: int, body: str) -> None:
            started = time.time()
            answer = await client.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )
            results.append(Sent(first_user + n, started, time.time(), answer.status_code))

        begin = time.monotonic()
        tasks = []
        for n, body in enumerate(bodies):
            await asyncio.sleep(max(0.0, begin + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(post(n, body)))
        await asyncio.gather(*tasks)
    return results


def row(name: str, values_ms: list[float], cpu_ms: float | None, note: str) -> str:
    cpu = "-" if cpu_ms is None else f"{cpu_ms:.2f}"
    return (
        f"| {name} | {len(values_ms)} | {statistics.median(values_ms):.1f} "
        f"| {percentile(values_ms, 0.99):.1f} | {max(values_ms):.1f} | {cpu} | {note} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--rate", type=float, default=8.0, help="webhooks a second")
    options = parser.parse_args()

    database_url = await fresh_database()
    workdir = Path(tempfile.mkdtemp(prefix="shopbot-notice-"))
    bodies_file = workdir / "bodies.jsonl"
    await seed(database_url, WARM_UP + options.invoices, bodies_file)
    warm_up, bodies = split(bodies_file.read_text().splitlines())
    telegram_port, service_port = free_port(), free_port()
    telegram_url = f"http://127.0.0.1:{telegram_port}"
    customers = range(FIRST_USER, FIRST_USER + WARM_UP + options.invoices)
    emulator = start_emulator(telegram_port, [customers])
    service = start(
        service_command(service_port),
        {
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": telegram_url,
            "DATABASE_URL": database_url,
            "HELEKET_MERCHANT_ID": "bench",
            "HELEKET_API_KEY": KEY,
            "HELEKET_ALLOWED_IPS": "127.0.0.1",
            "RECONCILE_INTERVAL_SECONDS": "0",
            "LEDGER_CHECK_INTERVAL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        },
    )
    nginx = await start_nginx(workdir / "nginx", [free_port()], [service_port])
    try:
        await wait_ready(f"{telegram_url}/sandbox/state")
        await wait_ready(f"http://127.0.0.1:{service_port}/health")
        url = f"{nginx.edge.http}/webhook/heleket"
        await post_all(url, warm_up, options.rate, FIRST_USER)
        cpu, machine = total_cpu([service.pid]), machine_ticks()
        first = await post_all(url, bodies, options.rate, FIRST_USER + WARM_UP)
        first_cpu = (total_cpu([service.pid]) - cpu) * 1000 / len(first)
        busy = busy_fraction(machine, machine_ticks())
        await asyncio.sleep(1)  # nothing should still be on its way; the count shows it
        cpu = total_cpu([service.pid])
        again = await post_all(url, bodies, options.rate, FIRST_USER + WARM_UP)
        again_cpu = (total_cpu([service.pid]) - cpu) * 1000 / len(again)
        notices = await sent_messages(telegram_url)
        memory = {
            "webhook service (uvicorn, 1 worker)": [rss_kib(service.pid)],
            "Telegram emulator": [rss_kib(emulator.pid)],
            "nginx master": [rss_kib(nginx.process.pid)],
            "nginx worker": [rss_kib(pid) for pid in children(nginx.process.pid)],
        }
    finally:
        stop(nginx.process, signal.SIGQUIT)
        stop(service)
        stop(emulator)
        shutil.rmtree(workdir, ignore_errors=True)

    arrived: dict[int, float] = {}  # the first notice of each customer
    per_user = Counter(n["chat_id"] for n in notices if n["ok"])
    for notice in notices:
        if notice["ok"]:
            arrived.setdefault(notice["chat_id"], notice["at"])
    to_notice = [(arrived[s.user_id] - s.started) * 1000 for s in first if s.user_id in arrived]
    notified = sum(1 for s in first if s.user_id in arrived)
    statuses = Counter(s.status for s in first) + Counter(s.status for s in again)
    print(
        f"{options.invoices} first-time `paid` webhooks through nginx at {options.rate:g}/s, "
        f"then the same again (after {WARM_UP} not counted); {os.cpu_count()} CPUs, "
        f"machine busy {busy:.0%} during the first"
    )
    print("| path | webhooks | p50 ms | p99 ms | max ms | service CPU ms/webhook | what it does |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(
        row(
            "`paid` sent → notice reaches the emulator",
            to_notice,
            None,
            "verify, ledger tx, commit, sendMessage",
        )
    )
    print(
        row(
            "`paid` sent → 200 answer",
            [(s.answered - s.started) * 1000 for s in first],
            first_cpu,
            "the above, then the answer",
        )
    )
    print(
        row(
            "duplicate `paid` sent → 200 answer (baseline)",
            [(s.answered - s.started) * 1000 for s in again],
            again_cpu,
            "verify, claim finds it seen",
        )
    )
    print()
    twice = sum(1 for n in per_user.values() if n > 1)
    refused = sum(1 for n in notices if not n["ok"])
    print(
        f"answers: {dict(sorted(statuses.items()))}; notices: {notified} customers of "
        f"{options.invoices} notified (+{WARM_UP} warm-up), more than once: {twice}, "
        f"refused sends: {refused}"
    )
    print()
    print("| process | RSS MiB (each) |")
    print("|---|---|")
    for name, values in memory.items():
        print(f"| {name} | {', '.join(f'{v / 1024:.0f}' for v in values)} |")


if __name__ == "__main__":
    asyncio.run(main())
