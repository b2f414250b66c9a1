"""The broadcaster driving the real aiogram `Bot` over HTTP against the Telegram Bot API
emulator (with its flood limits answering real 429s), on real PostgreSQL."""

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from shopbot.bot.broadcast import Broadcaster, Pacer
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import EMULATOR, Emulator, EmulatorConfig, create_app

TOKEN = "777001:broadcast-test-token"


class FakeClock:
    """Virtual seconds: `sleep` moves time forward instead of waiting. Concurrent sleepers
    wake at the latest of their wake-up times, as they would in real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)


class RecordingSleep:
    """Real sleeps, recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds)


@dataclass
class SendLog(BaseRequestMiddleware):
    """Records when (by the given clock) the bot issued each sendMessage, and to whom."""

    clock: Any
    sends: list[tuple[float, int]] = field(default_factory=list)

    async def __call__(self, make_request: Any, bot: Bot, method: TelegramMethod[TelegramType]):  # type: ignore[override]
        if isinstance(method, SendMessage):
            self.sends.append((self.clock(), int(method.chat_id)))
        result: Response[TelegramType] = await make_request(bot, method)
        return result


@dataclass
class Env:
    emu: Emulator
    bot: Bot
    uows: UnitOfWorkFactory


@pytest.fixture
async def env(pg_uow: UnitOfWorkFactory) -> AsyncIterator[Env]:
    app = create_app(EmulatorConfig(bots={TOKEN: (777001, "broadcast_bot", "Shop")}))
    async with serve_aiohttp(app) as base_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            yield Env(app[EMULATOR], bot, pg_uow)
        finally:
            await bot.session.close()


async def add_users(env: Env, user_ids: list[int], *, in_telegram: bool = True) -> None:
    async with env.uows() as uow:
        for user_id in user_ids:
            await uow.users.register(user_id, username=None, language="en")
        await uow.commit()
    if in_telegram:
        for user_id in user_ids:
            env.emu.create_user(user_id, started=True)


def received(env: Env, user_id: int) -> list[str]:
    return [m.text or "" for m in env.emu.messages(user_id) if m.sender == "bot"]


def max_in_any_second(times: list[float]) -> int:
    """The most sends in any half-open window (t - 1, t]."""
    return max(sum(1 for s in times if t - 1.0 < s <= t) for t in times)


async def test_pacing_never_exceeds_the_rate(env: Env) -> None:
    users = list(range(100, 145))
    await add_users(env, users)
    clock = FakeClock()
    log = SendLog(clock)
    env.bot.session.middleware(log)

    report = await Broadcaster(
        env.bot, env.uows, rate=10, clock=clock, sleep=clock.sleep, page_size=7
    ).send("<b>News</b> &amp; offers")

    assert (report.sent, report.unreachable, report.failed) == (45, 0, 0)
    assert all(received(env, u) == ["News & offers"] for u in users)
    times = [t for t, _ in log.sends]
    assert len(times) == 45
    assert max_in_any_second(times) <= 10
    # ... and no slower than needed: 45 sends at 10/s take a little over 4 seconds.
    assert 4.0 <= times[-1] - times[0] <= 4.5


async def test_pacer_alone_spreads_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(3, clock, clock.sleep)
    times = []
    for _ in range(10):
        await pacer.acquire()
        times.append(clock())
    assert max_in_any_second(times) == 3
    assert times[-1] - times[0] == pytest.approx(3.0)
    pacer.pause(5)
    paused_at = clock()
    await pacer.acquire()
    assert clock() - paused_at == pytest.approx(5.0)
    with pytest.raises(ValueError):
        Pacer(0, clock, clock.sleep)


async def test_a_429_is_honoured_and_the_same_user_retried(env: Env) -> None:
    users = list(range(200, 212))
    await add_users(env, users)
    env.emu.set_flood(per_chat=None, global_rate=4)  # stricter than the broadcaster's rate
    sleep = RecordingSleep()
    log = SendLog(time.time)
    env.bot.session.middleware(log)

    report = await Broadcaster(env.bot, env.uows, rate=25, sleep=sleep).send("hello")

    assert (report.sent, report.unreachable, report.failed) == (12, 0, 0)
    assert report.rate_limited >= 1
    assert all(received(env, u) == ["hello"] for u in users)  # exactly once each
    refusals = [c for c in env.emu.calls("sendMessage") if c.error_code == 429]
    assert len(refusals) == report.rate_limited
    for refusal in refusals:
        retry_after = int(re.findall(r"retry after (\d+)", refusal.description or "")[0])
        chat_id = int(refusal.params["chat_id"])
        # The next request for that user came no sooner than retry_after seconds later.
        later = [t for t, c in log.sends if c == chat_id and t > refusal.at]
        assert later, chat_id
        assert min(later) >= refusal.at + retry_after - 0.05
        assert any(s >= retry_after - 0.05 for s in sleep.sleeps)


async def test_a_user_who_keeps_getting_429_fails_after_max_attempts(env: Env) -> None:
    await add_users(env, [300])
    env.emu.set_flood(per_chat=None, global_rate=1)
    env.emu.check_flood(env.emu.bot(), env.emu.chat(300))  # the window is full already
    clock = FakeClock()  # virtual sleeps: the emulator's real window never clears

    report = await Broadcaster(
        env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep, max_attempts=3
    ).send("hello")

    assert (report.sent, report.failed, report.rate_limited) == (0, 1, 3)
    assert received(env, 300) == []


async def test_blocked_users_are_marked_unreachable_and_skipped_next_time(env: Env) -> None:
    await add_users(env, [1, 2, 3, 4, 5])
    await add_users(env, [6], in_telegram=False)  # never opened the chat: 400
    env.emu.block(3)
    clock = FakeClock()

    first = await Broadcaster(env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep).send(
        "one"
    )

    assert (first.sent, first.unreachable, first.failed) == (4, 1, 1)
    async with env.uows() as uow:
        assert await uow.users.unreachable_since(3) is not None
        assert await uow.users.unreachable_since(6) is None
        assert await uow.users.count_reachable() == 5

    second = await Broadcaster(env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep).send(
        "two"
    )

    assert (second.sent, second.unreachable, second.failed) == (4, 0, 1)
    attempts_for_3 = [c for c in env.emu.calls("sendMessage") if c.params.get("chat_id") == "3"]
    assert len(attempts_for_3) == 1  # only the first broadcast tried
    assert received(env, 1) == ["one", "two"]

    # The user unblocks the bot and writes to it: reachable again.
    env.emu.unblock(3)
    async with env.uows() as uow:
        await uow.users.register(3, username=None, language="en")
        await uow.commit()
    third = await Broadcaster(env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep).send(
        "three"
    )
    assert (third.sent, third.unreachable, third.failed) == (5, 0, 1)
    assert received(env, 3) == ["three"]


async def test_progress_callback_after_every_page(env: Env) -> None:
    await add_users(env, list(range(400, 410)))
    clock = FakeClock()
    seen: list[int] = []

    async def on_page(report: Any) -> None:
        seen.append(report.total)

    report = await Broadcaster(
        env.bot, env.uows, rate=25, clock=clock, sleep=clock.sleep, page_size=4, on_page=on_page
    ).send("x")

    assert report.sent == 10
    assert len(seen) == 3
