"""The cost of handling one update: the shop's dispatcher beside a bare aiogram echo bot,
each in a process of its own with the Telegram Bot API emulator in that process (loopback).

    python bench/dispatch.py [--users 300] [--rounds 3] [--concurrency 8]
                             [--redis redis://127.0.0.1:6379/13 | --no-redis]
                             [--no-metrics] [--profile shop.prof]

Each simulated user sends `/start` and then presses the Balance button under the answer
(two updates: a message, and a callback query the bot answers and edits its message
for). The shop is the real one (`shopbot.composition.bot.bot_process`: every middleware,
real PostgreSQL in a fresh database, Redis for update de-duplication, FSM state and the
rate limits unless --no-redis). The baseline is a minimal aiogram 3 bot making the same
Bot API calls: it echoes the message, and answers the callback query and edits its
message. Updates are fed to each dispatcher as aiogram's webhook handler feeds them
(`feed_update`), `--concurrency` users at a time.

Every round runs in a fresh process (ABBA order: echo, shop, shop, echo, ... against
drift), so neither bot inherits the other's garbage collector pressure or caches (the
shop keeps pydantic's Bot API answer models alive, bot/response_models.py; a bare bot
does not). A round warms up with 50 users, then measures. Prints, per bot, updates per
second of wall-clock time and CPU milliseconds per update of its process (the bot and
the emulator answering it; PostgreSQL and Redis run elsewhere), the shop's ratio to the
echo bot, and the shop's database, Redis and Bot API calls per update (from its own
metrics). The global rate limit (25 updates/s by default, a budget for Telegram's ~30
messages/s) is turned off: it would measure the limit, not the cost. With --profile,
the shop's last round runs under cProfile and the top functions are printed.
"""

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, Message, Update
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook import fresh_database

from shopbot.bot.callbacks import MenuCB, MenuTarget
from shopbot.composition.bot import bot_process
from shopbot.composition.gc_tuning import freeze_startup_objects
from shopbot.config import Settings
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.sandbox.telegram import EMULATOR, EmulatorConfig, create_app

BALANCE = MenuCB(to=MenuTarget.BALANCE).pack()
Feed = Callable[[dict[str, Any]], Awaitable[None]]


def echo_dispatcher() -> Dispatcher:
    """The baseline: one handler per update type, the same Bot API calls as the shop."""
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "", reply_markup=balance_button())

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(query.data or "", reply_markup=balance_button())

    return dispatcher


def balance_button() -> Any:
    from aiogram.utils.keyboard import InlineKeyboardBuilder

    builder = InlineKeyboardBuilder()
    builder.button(text="Balance", callback_data=BALANCE)
    return builder.as_markup()


ROUND_TRIPS = {
    "shopbot_db_query_duration_seconds_count": "SQL",
    "shopbot_redis_command_duration_seconds_count": "Redis",
    "shopbot_telegram_api_requests_total": "Bot API",
}


def round_trips() -> dict[str, float]:
    """Calls made so far by kind and name, from the shop's own metrics (`SQL select`,
    `Redis EVALSHA`, `Bot API sendMessage`, ...)."""
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            kind = ROUND_TRIPS.get(sample.name)
            if kind:
                name = next(iter(sample.labels.values()), "")
                counts[f"{kind} {name}"] = counts.get(f"{kind} {name}", 0) + sample.value
    return counts


def bot_on(token: str, url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class Round:
    """One bot's round: `users` users, `concurrency` at a time, each `/start` then Balance."""

    def __init__(self, emulator: Any, token: str, feed: Feed, concurrency: int) -> None:
        self.emulator, self.token, self.feed = emulator, token, feed
        self.concurrency = concurrency
        self.updates = 0

    async def user(self, user_id: int) -> None:
        self.emulator.create_user(user_id, "Bench")
        self.emulator.send_text(user_id, "/start", bot=self.token)
        await self.next_update()
        welcome = self.emulator.last_bot_message(user_id, bot=self.token)
        if welcome is None:
            raise RuntimeError(f"user {user_id} got no answer to /start")
        self.emulator.press(user_id, welcome.message_id, BALANCE, bot=self.token)
        await self.next_update()

    async def next_update(self) -> None:
        state = self.emulator.bot(self.token)
        update = state.updates.popleft()  # just queued: nothing awaited since
        await self.feed(update.to_api())
        self.updates += 1

    async def run(self, first_user: int, users: int) -> tuple[float, float]:
        """(updates per second, CPU ms per update) of this round."""
        gate = asyncio.Semaphore(self.concurrency)

        async def one(user_id: int) -> None:
            async with gate:
                await self.user(user_id)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(first_user + k) for k in range(users)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return self.updates / wall, cpu * 1000 / self.updates


def shop_settings(options: argparse.Namespace, database_url: str, url: str, token: str) -> Any:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        telegram_token=token,
        telegram_api_url=url,
        redis_url=None if options.no_redis else options.redis,
        bot_mode="polling",
        rate_limit_global_per_second=0,
        metrics_enabled=not options.no_metrics,
    )


async def one_round(options: argparse.Namespace) -> dict[str, Any]:
    """Runs in a child process: one bot, its own emulator, a warm-up of 50 users (imports,
    pools, prepared statements, caches), then `options.users` users measured."""
    token = f"{options.bot_id}:BENCH-{options.bot}"
    app = create_app(EmulatorConfig(bots={token: (options.bot_id, f"{options.bot}_bot", "B")}))
    profiler = cProfile.Profile() if options.profile else None
    async with serve_aiohttp(app) as url, contextlib.AsyncExitStack() as stack:
        emulator = app[EMULATOR]
        if options.bot == "shop":
            settings = shop_settings(options, options.database_url, url, token)
            shop = await stack.enter_async_context(bot_process(settings))
            freeze_startup_objects()  # as `shopbot bot` does once started (cli/bot.py)
            bot, dispatcher = shop.bot, shop.dispatcher
        else:
            bot = await stack.enter_async_context(bot_on(token, url))
            dispatcher = echo_dispatcher()

        async def feed(raw: dict[str, Any]) -> None:
            await dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))

        user = options.first_user
        await Round(emulator, token, feed, options.concurrency).run(user, 50)
        before = round_trips()
        if profiler:
            profiler.enable()
        rate, cpu_ms = await Round(emulator, token, feed, options.concurrency).run(
            user + 50, options.users
        )
        if profiler:
            profiler.disable()
            profiler.dump_stats(options.profile)
        trips = {k: v - before.get(k, 0) for k, v in round_trips().items()}
    updates = options.users * 2
    return {"rate": rate, "cpu_ms": cpu_ms, "trips": {k: v / updates for k, v in trips.items()}}


def child(options: argparse.Namespace, bot: str, bot_id: int, first_user: int, url: str) -> Any:
    args = [
        sys.executable,
        __file__,
        "--child",
        bot,
        "--bot-id",
        str(bot_id),
        "--first-user",
        str(first_user),
        "--database-url",
        url,
        "--users",
        str(options.users),
        "--concurrency",
        str(options.concurrency),
        "--redis",
        options.redis,
    ]
    args += ["--no-redis"] * options.no_redis + ["--no-metrics"] * options.no_metrics
    if options.profile and bot == "shop":
        args += ["--profile", options.profile]
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")  # the benches' db
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-metrics", action="store_true", help="METRICS_ENABLED=false")
    parser.add_argument("--profile", help="write the shop's cProfile stats here (last round)")
    parser.add_argument("--child", choices=["shop", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--bot-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--first-user", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        options.bot = options.child
        print(json.dumps(asyncio.run(one_round(options))))
        return
    database_url = asyncio.run(fresh_database())
    run = random.randrange(10**6, 10**7)  # fresh ids: no de-duplication key repeats
    rounds: dict[str, list[dict[str, Any]]] = {"echo": [], "shop": []}
    for r in range(options.rounds):
        for bot in (("echo", "shop"), ("shop", "echo"))[r % 2]:  # ABBA against drift
            bot_id = run * 100 + r * 2 + (bot == "shop")
            first_user = (run * 100 + r * 2 + (bot == "shop")) * 10_000
            rounds[bot].append(child(options, bot, bot_id, first_user, database_url))
    report(options, rounds)


def report(options: argparse.Namespace, rounds: dict[str, list[dict[str, Any]]]) -> None:
    def median(bot: str, field: str) -> float:
        return statistics.median(r[field] for r in rounds[bot])

    print(
        f"{options.rounds} rounds x {options.users} users x 2 updates (/start, Balance) per "
        f"bot, each round a process of its own, {options.concurrency} users at a time; Redis: "
        f"{'none (in memory)' if options.no_redis else 'yes'}; metrics: "
        f"{'off' if options.no_metrics else 'on'}; {os.cpu_count()} CPUs shared with "
        "PostgreSQL and Redis"
    )
    print("| bot | updates/s (median round) | CPU ms/update (median round) | vs echo (rate) |")
    print("|---|---:|---:|---:|")
    for bot in ("echo", "shop"):
        print(
            f"| {bot} | {median(bot, 'rate'):.0f} | {median(bot, 'cpu_ms'):.3f} "
            f"| {median(bot, 'rate') / median('echo', 'rate'):.2f} |"
        )
    print(f"CPU per update, shop / echo: {median('shop', 'cpu_ms') / median('echo', 'cpu_ms'):.2f}")
    print("| shop's calls per update (median round) | count |")
    print("|---|---:|")
    names = sorted({name for r in rounds["shop"] for name in r["trips"]})
    for name in names:
        count = statistics.median(r["trips"].get(name, 0) for r in rounds["shop"])
        if count:
            print(f"| {name} | {count:.2f} |")
    if options.profile:
        out = io.StringIO()
        pstats.Stats(options.profile, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
