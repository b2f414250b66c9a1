"""Updates per second handled by 1, 2 and 3 bot instances behind nginx, beside a minimal
aiogram echo bot measured in the same run.

    python bench/scaling.py [--seconds 10] [--connections 32] [--instances 1,2,3]

Starts, each in its own process on loopback: the Telegram emulator (bench/telegram_users.py,
every user's chat open), then per scenario N instances of `shopbot bot` in webhook mode
(BOT_MODE=webhook, a fresh PostgreSQL database, Redis database 13 shared by the instances
for dedupe and FSM) or of the echo bot (bench/echo_bot.py), behind one nginx upstream of
the production config (deploy/nginx; bench/stack.py lifts its per-address limit). wrk
(one thread, bench/telegram_bodies.lua) posts distinct updates with the secret token
header: `/start` from new users, then `/help` from the same users 500 updates later, each
update_id once. A 2 s warm-up on other users precedes each measured run.

The shop's global update limit (RATE_LIMIT_GLOBAL_PER_SECOND, 25/s by default, a budget
for Telegram's outgoing limit) is off here: this measures what the instances can handle.

Afterwards it checks every update was handled exactly once: the M requests nginx passed
on were bodies 2..M+1 of the file (wrk walks it in order, after one request() it throws
away), so each of those users must have exactly one answer per update in the emulator,
and (shop) be registered once.

Prints the throughput table, the exactly-once check and resident memory per process.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import (
    REDIS_URL,
    SECRET,
    TOKEN,
    Nginx,
    WrkResult,
    busy_fraction,
    children,
    cpu_seconds,
    flush_redis,
    free_port,
    machine_ticks,
    rss_kib,
    sent_messages,
    start,
    start_emulator,
    start_nginx,
    stop,
    wait_quiet,
    wait_ready,
    wrk,
)
from bench.webhook import fresh_database, service_command

from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.models import UserRow

USERS_PER_SCENARIO = 12_000
WARM_USERS = 600
BLOCK = 500
"""Users per block of the bodies file: their `/start`s, then their `/help`s."""


@dataclass
class Scenario:
    name: str
    kind: str  # "shop" or "echo"
    instances: int
    users: range
    warm_users: range
    result: WrkResult | None = None
    proxied: int = 0
    cpu_ms: float = 0.0
    """CPU milliseconds per update, summed over the bot processes."""
    emulator_cpu_ms: float = 0.0
    nginx_cpu_ms: float = 0.0
    postgres_cpu_ms: float = 0.0
    """Of the backends serving the benchmark's database (pg_stat_activity)."""
    machine_busy: float = 0.0
    rss: dict[str, list[int]] = field(default_factory=dict)
    sent: list[tuple[int, str]] = field(default_factory=list)  # (user, text) nginx passed on


def update(update_id: int, user_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "en"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def write_bodies(path: Path, users: range, first_update: int) -> list[tuple[int, str]]:
    """`/start` of BLOCK users, then their `/help`, block after block; returns the
    (user, text) of each line in order."""
    order = []
    for start_at in range(users.start, users.stop, BLOCK):
        block = range(start_at, min(start_at + BLOCK, users.stop))
        order += [(user, "/start") for user in block] + [(user, "/help") for user in block]
    lines = (
        json.dumps(update(first_update + n, user, text)) for n, (user, text) in enumerate(order)
    )
    path.write_text("\n".join(lines) + "\n")
    return order


def bot_env(database_url: str, telegram_url: str, public_url: str) -> dict[str, str]:
    return {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "BOT_MODE": "webhook",
        "PUBLIC_BASE_URL": public_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_GLOBAL_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
    }


def instance_command(kind: str, port: int) -> list[str]:
    if kind == "echo":
        return [sys.executable, "bench/echo_bot.py", str(port)]
    command = service_command(port)
    return [*command[: command.index("webhook")], "bot", "--host", "127.0.0.1", "--port", str(port)]


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:  # ended meanwhile
            continue
    return found


def cpu_since(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds `pids` spent since `before` (a process not in it: all of its time)."""
    now = cpu_by_pid(pids)
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


async def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL backends connected to the benchmark's database (same machine)."""
    url = make_url(database_url)
    connection = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.database,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def run_scenario(
    scenario: Scenario,
    options: argparse.Namespace,
    workdir: Path,
    env: dict,
    emulator_pid: int,
    database_url: str,
) -> None:
    ports = [free_port() for _ in range(scenario.instances)]
    root = workdir / f"nginx-{scenario.users.start}"
    nginx: Nginx = await start_nginx(root, ports, [free_port()])
    url = f"{nginx.edge.http}/webhook/telegram"
    processes = [
        start(instance_command(scenario.kind, port), {**env, "PUBLIC_BASE_URL": nginx.edge.http})
        for port in ports
    ]
    try:
        for port in ports:
            await wait_ready(f"http://127.0.0.1:{port}/health")
        first_update = scenario.users.start * 10
        warm = workdir / f"warm-{scenario.users.start}.jsonl"
        write_bodies(warm, scenario.warm_users, first_update + 500_000)
        wrk(url, warm, 2, options.connections)
        await wait_quiet(env["TELEGRAM_API_URL"])
        before = nginx.proxied()

        bodies = workdir / f"bodies-{scenario.users.start}.jsonl"
        order = write_bodies(bodies, scenario.users, first_update)
        pids = [p.pid for p in processes]
        groups = {"bots": pids, "emulator": [emulator_pid], "nginx": nginx.pids}
        cpu = {name: cpu_by_pid(members) for name, members in groups.items()}
        cpu["postgres"] = cpu_by_pid(await backend_pids(database_url))
        machine = machine_ticks()
        scenario.result = wrk(url, bodies, options.seconds, options.connections)
        scenario.machine_busy = busy_fraction(machine, machine_ticks())
        groups["postgres"] = await backend_pids(database_url)
        spent = {name: cpu_since(cpu[name], members) for name, members in groups.items()}
        await wait_quiet(env["TELEGRAM_API_URL"])
        scenario.proxied = nginx.proxied() - before
        # Per update passed on; the few still in flight when wrk stopped are counted
        # as handled but their CPU after that moment is not: a slight underestimate.
        handled = max(scenario.proxied, 1)
        scenario.cpu_ms = spent["bots"] * 1000 / handled
        scenario.emulator_cpu_ms = spent["emulator"] * 1000 / handled
        scenario.nginx_cpu_ms = spent["nginx"] * 1000 / handled
        scenario.postgres_cpu_ms = spent["postgres"] * 1000 / handled
        if scenario.proxied + 1 > len(order):
            raise RuntimeError(f"{scenario.name}: wrk ran out of bodies; raise USERS_PER_SCENARIO")
        # wrk calls the script's request() once before its first request and throws that
        # one away: what nginx passed on are bodies 2..M+1.
        scenario.sent = order[1 : scenario.proxied + 1]
        label = "echo bot" if scenario.kind == "echo" else "shopbot bot"
        scenario.rss[f"{label} (each instance)"] = [rss_kib(pid) for pid in pids]
        scenario.rss["nginx master"] = [rss_kib(nginx.process.pid)]
        scenario.rss["nginx worker"] = [rss_kib(pid) for pid in children(nginx.process.pid)]
    finally:
        for process in processes:
            stop(process)
        stop(nginx.process, signal.SIGQUIT)  # nginx's graceful stop


async def exactly_once(
    scenarios: list[Scenario], telegram_url: str, database_url: str
) -> list[str]:
    """One line per scenario: answers per user against updates passed on, and (shop) the
    users registered against the distinct users among them."""
    messages = await sent_messages(telegram_url)
    answered = Counter(m["chat_id"] for m in messages if m["ok"])
    refused = Counter(m["chat_id"] for m in messages if not m["ok"])
    engine = create_engine(database_url)
    lines = []
    for scenario in scenarios:
        expected = Counter(user for user, _ in scenario.sent)
        in_range = {u: n for u, n in answered.items() if u in scenario.users}
        wrong = sum(
            1 for user in expected.keys() | in_range.keys() if answered[user] != expected[user]
        )
        refusals = sum(n for u, n in refused.items() if u in scenario.users)
        line = (
            f"{scenario.name}: {scenario.proxied} updates passed on by nginx, "
            f"{sum(in_range.values())} answers, users answered a wrong number of times: {wrong}, "
            f"refused sends: {refusals}"
        )
        if scenario.kind == "shop":
            async with create_session_factory(engine)() as session:
                registered = await session.scalar(
                    select(func.count()).where(
                        UserRow.id >= scenario.users.start, UserRow.id < scenario.users.stop
                    )
                )
            line += f"; users registered {registered} of {len(expected)} who wrote"
        lines.append(line)
    await engine.dispose()
    return lines


def print_tables(scenarios: list[Scenario], options: argparse.Namespace) -> None:
    """One row per bot and instance count: medians over the rounds."""
    print(
        f"wrk -t1 -c{options.connections} -d{options.seconds}s through nginx, "
        f"{options.rounds} round(s), medians; {os.cpu_count()} CPUs shared by wrk, nginx, "
        "the bots, the emulator, PostgreSQL, Redis (and other work on the machine)"
    )
    rows: dict[tuple[str, int], list[Scenario]] = {}
    for s in scenarios:
        rows.setdefault((s.kind, s.instances), []).append(s)

    def med(group: list[Scenario], value: Callable[[Scenario], float]) -> float:
        return statistics.median(value(s) for s in group)

    def rate(s: Scenario) -> float:
        return s.result.rate if s.result else 0.0

    print(
        "| bot | instances | updates | req/s | p50 ms | p99 ms | errors | CPU ms/update: "
        "bots | PostgreSQL | emulator | nginx | machine busy | vs 1 instance | vs echo x1 |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    echo = rows.get(("echo", 1))
    for (kind, instances), group in rows.items():
        one = rows.get((kind, 1))
        errors = "; ".join(sorted({s.result.errors for s in group if s.result}))
        print(
            f"| {kind} | {instances} | {sum(s.result.requests for s in group if s.result)} "
            f"| {med(group, rate):.0f} "
            f"| {med(group, lambda s: s.result.p50_ms if s.result else 0):.1f} "
            f"| {med(group, lambda s: s.result.p99_ms if s.result else 0):.1f} | {errors} "
            f"| {med(group, lambda s: s.cpu_ms):.2f} "
            f"| {med(group, lambda s: s.postgres_cpu_ms):.2f} "
            f"| {med(group, lambda s: s.emulator_cpu_ms):.2f} "
            f"| {med(group, lambda s: s.nginx_cpu_ms):.2f} "
            f"| {med(group, lambda s: s.machine_busy):.0%} "
            f"| {med(group, rate) / med(one, rate) if one else 0:.2f} "
            f"| {med(group, rate) / med(echo, rate) if echo else 0:.2f} |"
        )


def print_memory(scenarios: list[Scenario], emulator_kib: int) -> None:
    print("| process | scenario (round 1, after its load) | RSS MiB (each) |")
    print("|---|---|---|")
    for s in (s for s in scenarios if s.name.endswith("#1")):
        for name, values in s.rss.items():
            shown = ", ".join(f"{v / 1024:.0f}" for v in values)
            print(f"| {name} | {s.name} | {shown} |")
    print(f"| Telegram emulator (every answer kept) | after all | {emulator_kib / 1024:.0f} |")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--instances", default="1,2,3")
    parser.add_argument("--echo-instances", default="1", help="echo bot scenarios, e.g. 1,3")
    parser.add_argument("--rounds", type=int, default=1, help="the table shows medians")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/scaling.py needs wrk: apt-get install wrk")

    plan = [("echo", int(n)) for n in options.echo_instances.split(",")]
    plan += [("shop", int(n)) for n in options.instances.split(",")]
    # Round after round, forward then backward: drift in the shared machine's load falls
    # on every scenario alike.
    rounds = [plan if r % 2 == 0 else plan[::-1] for r in range(options.rounds)]
    scenarios = []
    for index, (kind, count) in enumerate(item for one in rounds for item in one):
        base = 2_000_000 + index * 100_000
        scenarios.append(
            Scenario(
                f"{kind} x{count} #{index // len(plan) + 1}",
                kind,
                count,
                range(base, base + USERS_PER_SCENARIO),
                range(base + 50_000, base + 50_000 + WARM_USERS),
            )
        )
    database_url = await fresh_database()
    flush_redis()
    workdir = Path(tempfile.mkdtemp(prefix="shopbot-scaling-"))
    telegram_port = free_port()
    telegram_url = f"http://127.0.0.1:{telegram_port}"
    emulator = start_emulator(
        telegram_port, [r for s in scenarios for r in (s.users, s.warm_users)]
    )
    try:
        await wait_ready(f"{telegram_url}/sandbox/state")
        env = {
            "TELEGRAM_API_URL": telegram_url,
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
        for scenario in scenarios:
            scenario_env = (
                env if scenario.kind == "echo" else bot_env(database_url, telegram_url, "")
            )
            await run_scenario(scenario, options, workdir, scenario_env, emulator.pid, database_url)
        checks = await exactly_once(scenarios, telegram_url, database_url)
        emulator_kib = rss_kib(emulator.pid)
    finally:
        stop(emulator)
        shutil.rmtree(workdir, ignore_errors=True)
    print_tables(scenarios, options)
    print()
    for line in checks:
        print(line)
    print()
    print_memory(scenarios, emulator_kib)


if __name__ == "__main__":
    asyncio.run(main())
