"""Shared by the broadcast tests: the real aiogram `Bot` over HTTP against the Telegram
Bot API emulator (with its flood limits answering real 429s), on real PostgreSQL."""

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from sqlalchemy import select

from shopbot.bot.broadcast_worker import BroadcastWorker
from shopbot.domain.broadcasts.models import Broadcast, BroadcastContent, ContentKind
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.persistence.models import BroadcastRecipientRow as R
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import EMULATOR, Emulator, EmulatorConfig, create_app

TOKEN = "777001:broadcast-test-token"
ADMIN = 9000


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


SENDS = (SendMessage, SendPhoto, SendDocument)


@dataclass
class SendLog(BaseRequestMiddleware):
    """Records when (by the given clock) the bot issued each send, and to whom; `before`
    runs before each send (a test's way to act in the middle of a broadcast)."""

    clock: Any
    sends: list[tuple[float, int]] = field(default_factory=list)
    before: Any = None

    async def __call__(self, make_request: Any, bot: Bot, method: TelegramMethod[TelegramType]):  # type: ignore[override]
        if isinstance(method, SENDS):
            self.sends.append((self.clock(), int(method.chat_id)))
            if self.before is not None:
                await self.before(len(self.sends))
        result: Response[TelegramType] = await make_request(bot, method)
        return result


@dataclass
class Env:
    emu: Emulator
    bot: Bot
    uows: UnitOfWorkFactory
    api: str
    """The emulator's base URL (for a bot in another process)."""

    def worker(
        self, *, rate: int = 25, clock: FakeClock | None = None, **kw: Any
    ) -> BroadcastWorker:
        if clock is None:
            return BroadcastWorker(self.bot, self.uows, rate=rate, **kw)
        return BroadcastWorker(self.bot, self.uows, rate=rate, clock=clock, sleep=clock.sleep, **kw)

    def new_bot(self) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.api))
        return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def env(pg_uow: UnitOfWorkFactory) -> AsyncIterator[Env]:
    app = create_app(EmulatorConfig(bots={TOKEN: (777001, "broadcast_bot", "Shop")}))
    async with serve_aiohttp(app) as base_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            yield Env(app[EMULATOR], bot, pg_uow, base_url)
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


def text(html: str) -> BroadcastContent:
    return BroadcastContent(ContentKind.TEXT, html)


async def create(
    env: Env, content: BroadcastContent, *, key: str = "k1", progress: bool = False
) -> Broadcast:
    """Confirm a broadcast as the admin does: the snapshot now; with `progress`, the
    admin's progress message shown (the admin is created in Telegram and the database)."""
    async with env.uows() as uow:
        broadcast = await uow.broadcasts.create(
            request_key=key, created_by=ADMIN, content=content, at=datetime.now(UTC)
        )
        await uow.commit()
    assert broadcast is not None
    if progress:
        env.emu.create_user(ADMIN, started=True)
        shown = await env.bot.send_message(ADMIN, "progress")
        async with env.uows() as uow:
            await uow.broadcasts.set_progress_message(
                broadcast.id, chat_id=ADMIN, message_id=shown.message_id
            )
            await uow.commit()
    return broadcast


def received(env: Env, user_id: int) -> list[str]:
    return [m.text or m.caption or "" for m in env.emu.messages(user_id) if m.sender == "bot"]


def max_in_any_second(times: list[float]) -> int:
    """The most sends in any half-open window (t - 1, t]."""
    return max(sum(1 for s in times if t - 1.0 < s <= t) for t in times)


def png(width: int = 2, height: int = 3) -> bytes:
    """Enough of a PNG for the emulator to read its size."""
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", width, height)


async def states(env: Env, broadcast_id: int) -> dict[int, str]:
    """user id → recipient state, straight from the table."""
    async with env.uows() as uow:
        rows = await uow.session.execute(
            select(R.user_id, R.state).where(R.broadcast_id == broadcast_id)
        )
        return {user_id: state for user_id, state in rows}
