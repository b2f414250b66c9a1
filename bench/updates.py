"""The cost of the metrics on update handling: the real bot (aiogram Dispatcher built by
`shopbot.composition.bot`, real PostgreSQL, the Telegram Bot API emulator on loopback)
handles `/start` from distinct new users, with METRICS_ENABLED=false and =true in
alternating rounds.

    python bench/updates.py [--updates 300] [--rounds 4]

Each update is fed to the dispatcher directly (`feed_update`, as aiogram's webhook
handler does) and handled to the end: the user is registered in one transaction and the
welcome is sent to the emulator. Prints, per mode, wall-clock milliseconds per update
and CPU milliseconds per update (the figure other load on the machine hardly moves),
and the ratios. Uses TEST_POSTGRES_URL's server (a fresh database).
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from aiogram.types import Update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook import fresh_database

from shopbot.composition.bot import bot_process
from shopbot.config import Settings
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.sandbox.telegram import EMULATOR, EmulatorConfig, create_app

TOKEN = "123456:BENCH-shop_bot_token"


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Bench"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def round_of(
    database_url: str, telegram_url: str, emulator: Any, metrics: bool, first_user: int, n: int
) -> tuple[list[float], float]:
    """Wall-clock milliseconds of each of `n` updates from new users first_user.., and
    the CPU milliseconds per update this process spent on them (the bot and the emulator
    answering it: the same work in both modes, so the difference is the metrics)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        telegram_token=TOKEN,
        telegram_api_url=telegram_url,
        bot_mode="polling",
        metrics_enabled=metrics,
    )
    timings = []
    cpu = 0.0
    async with bot_process(settings) as process:
        for k in range(n):
            user_id = first_user + k
            user = emulator.create_user(user_id, "Bench")
            emulator.open_chat(emulator.bot(), user)  # the user wrote first, as on Telegram
            update = Update.model_validate(
                start_update(user_id, user_id), context={"bot": process.bot}
            )
            started, cpu_started = time.perf_counter(), time.process_time()
            await process.dispatcher.feed_update(process.bot, update)
            timings.append((time.perf_counter() - started) * 1000)
            cpu += time.process_time() - cpu_started
    return timings, cpu * 1000 / n


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    options = parser.parse_args()
    database_url = await fresh_database()
    app = create_app(EmulatorConfig(bots={TOKEN: (123456, "bench_bot", "Bench")}))
    results: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    async with serve_aiohttp(app) as telegram_url:
        emulator = app[EMULATOR]
        user = 1_000_000
        # A warm-up round (imports, connection pool, prepared statements) is not counted.
        await round_of(database_url, telegram_url, emulator, True, user, 50)
        user += 50
        for r in range(options.rounds):
            for metrics in ((False, True), (True, False))[r % 2]:  # ABBA against drift
                timings, cpu_ms = await round_of(
                    database_url, telegram_url, emulator, metrics, user, options.updates
                )
                results[metrics] += timings
                cpu[metrics].append(cpu_ms)
                user += options.updates

    print(
        f"{options.rounds} rounds x {options.updates} `/start` updates per mode, handled one "
        f"at a time; {os.cpu_count()} CPUs shared with PostgreSQL and the emulator"
    )
    print("| metrics | updates | mean ms | median ms | p95 ms | CPU ms/update (median round) |")
    print("|---|---:|---:|---:|---:|---:|")
    for metrics in (False, True):
        values = sorted(results[metrics])
        p95 = values[int(len(values) * 0.95)]
        print(
            f"| {'on' if metrics else 'off'} | {len(values)} | {statistics.mean(values):.3f} "
            f"| {statistics.median(values):.3f} | {p95:.3f} "
            f"| {statistics.median(cpu[metrics]):.3f} |"
        )
    off, on = statistics.median(results[False]), statistics.median(results[True])
    print(f"wall-clock median on / off: {on / off:.3f} ({on - off:+.3f} ms per update)")
    cpu_off, cpu_on = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"CPU on / off: {cpu_on / cpu_off:.3f} ({cpu_on - cpu_off:+.3f} ms per update)")


if __name__ == "__main__":
    asyncio.run(main())
