"""Broadcast messages per second against Telegram's ~30/s bulk limit.

    python bench/broadcast.py [--recipients 600] [--paces 25,30,40]

Starts the Telegram emulator (bench/telegram_users.py) in its own process with a global
flood limit of 30 messages a second per bot (sliding one-second window; beyond it a send
is refused with 429 and `retry_after`, and nothing is delivered), seeds a fresh PostgreSQL
database with `--recipients` users, and for each pace creates a RUNNING broadcast to all
of them (the repository's audience snapshot, as the admin's confirm does) and runs the
real broadcast worker (`BroadcastWorker.drain`, the job every bot instance runs under
the broadcast lease) in this process at that pace, to the end.

BROADCAST_PER_SECOND is 25 by default and the settings refuse more than 30; the worker
itself takes any pace, which is how 40 is run here: to show what a 429 does.

Prints per pace: the achieved rate (delivered messages over the first-to-last delivery
time, the emulator's clock), the 429s the emulator answered, duplicates (a recipient
given the same broadcast twice: must be 0) and the recipients' final states.
"""

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import (
    TOKEN,
    free_port,
    rss_kib,
    sent_messages,
    start_emulator,
    stop,
    wait_ready,
)
from bench.webhook import fresh_database

from shopbot.bot.broadcast_worker import BroadcastWorker
from shopbot.bot.factory import create_bot
from shopbot.config import Settings
from shopbot.domain.broadcasts.models import BroadcastContent, ContentKind
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.models import UserRow
from shopbot.persistence.types import utcnow
from shopbot.persistence.uow import UnitOfWorkFactory

FIRST_USER = 3_000_000
TELEGRAM_GLOBAL_LIMIT = 30


async def seed_users(uows: UnitOfWorkFactory, users: range) -> None:
    now = utcnow()
    rows = [
        {"id": u, "language": "en", "is_blocked": False, "created_at": now, "updated_at": now}
        for u in users
    ]
    async with uows() as uow:
        await uow.session.execute(insert(UserRow), rows)
        await uow.commit()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=600)
    parser.add_argument("--paces", default="25,30,40", help="messages a second, comma-separated")
    options = parser.parse_args()
    paces = [int(p) for p in options.paces.split(",")]
    users = range(FIRST_USER, FIRST_USER + options.recipients)

    database_url = await fresh_database()
    engine = create_engine(database_url)
    uows = UnitOfWorkFactory(create_session_factory(engine))
    await seed_users(uows, users)
    telegram_port = free_port()
    telegram_url = f"http://127.0.0.1:{telegram_port}"
    emulator = start_emulator(telegram_port, [users], global_rate=TELEGRAM_GLOBAL_LIMIT)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        telegram_token=TOKEN,
        telegram_api_url=telegram_url,
        log_level="WARNING",
    )
    bot = create_bot(settings)
    runs = []
    try:
        await wait_ready(f"{telegram_url}/sandbox/state")
        for pace in paces:
            text = f"Bench broadcast at {pace}/s"
            async with uows() as uow:
                broadcast = await uow.broadcasts.create(
                    request_key=f"bench-{pace}-{time.time_ns()}",
                    created_by=FIRST_USER,
                    content=BroadcastContent(ContentKind.TEXT, text),
                    at=utcnow(),
                )
                await uow.commit()
            assert broadcast is not None
            worker = BroadcastWorker(bot, uows, rate=pace)
            started, cpu = time.perf_counter(), time.process_time()
            await worker.drain()
            seconds = time.perf_counter() - started
            cpu_s = time.process_time() - cpu
            async with uows() as uow:
                progress = await uow.broadcasts.progress(broadcast.id)
            runs.append((pace, text, seconds, cpu_s, progress))
        calls = await sent_messages(telegram_url)
        emulator_kib = rss_kib(emulator.pid)
    finally:
        await bot.session.close()
        await engine.dispose()
        stop(emulator)

    print(
        f"{options.recipients} recipients per broadcast; emulator flood limit "
        f"{TELEGRAM_GLOBAL_LIMIT} messages/s per bot; {os.cpu_count()} CPUs shared"
    )
    print(
        "| pace (msg/s) | delivered | achieved msg/s | drain s | 429s | duplicates "
        "| sent / failed / unknown | worker CPU ms/msg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for pace, text, seconds, cpu_s, progress in runs:
        mine = [c for c in calls if c["text"] == text]
        ok = sorted(c["at"] for c in mine if c["ok"])
        refused = sum(1 for c in mine if c["error_code"] == 429)
        per_user = Counter(c["chat_id"] for c in mine if c["ok"])
        duplicates = sum(n - 1 for n in per_user.values() if n > 1)
        achieved = (len(ok) - 1) / (ok[-1] - ok[0]) if len(ok) > 1 else 0.0
        print(
            f"| {pace} | {len(ok)} | {achieved:.1f} | {seconds:.1f} | {refused} | {duplicates} "
            f"| {progress.sent} / {progress.failed} / {progress.unknown} "
            f"| {cpu_s * 1000 / max(len(ok), 1):.2f} |"
        )
    print(f"\nemulator RSS after all: {emulator_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
