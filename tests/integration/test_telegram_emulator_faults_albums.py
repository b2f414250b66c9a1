"""The Telegram emulator's albums (media groups sent by a simulated user) and its fault
injection, driven by the real aiogram `Bot` and `Dispatcher` over HTTP."""

import asyncio

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Message

from shopbot.sandbox.telegram import AlbumItem, SandboxError
from tests.integration.test_telegram_emulator import ALICE, Env, env

__all__ = ["env"]  # the fixture, shared with the emulator's main tests

BOB = 1002


def png(width: int = 640, height: int = 480) -> bytes:
    header = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
    return header + width.to_bytes(4) + height.to_bytes(4)


def photos(count: int) -> list[AlbumItem]:
    return [AlbumItem("photo", f"p{i}.png", png(100 + i, 50)) for i in range(count)]


async def test_an_album_is_one_update_per_item_with_one_media_group_id(env: Env) -> None:
    seen: list[Message] = []
    router = Router()

    @router.message(F.photo)
    async def photo(message: Message) -> None:
        seen.append(message)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    task = asyncio.create_task(
        dispatcher.start_polling(
            env.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    try:
        sent = env.emu.send_album(ALICE, photos(3), caption="three <b>shots</b>")
        await env.emu.wait_idle()
    finally:
        await dispatcher.stop_polling()
        await task
    assert len(sent) == 3
    assert [m.message_id for m in seen] == [m.message_id for m in sent]
    groups = {m.media_group_id for m in seen}
    assert len(groups) == 1
    assert None not in groups
    assert [m.caption for m in seen] == ["three <b>shots</b>", None, None]
    assert [m.photo[-1].width for m in seen if m.photo] == [100, 101, 102]
    downloaded = await env.bot.download(seen[0].photo[-1].file_id)  # type: ignore[index]
    assert downloaded is not None
    assert downloaded.read() == png(100, 50)
    updates = env.emu.calls("getUpdates")
    delivered = [u for c in updates if c.ok for u in c.result]
    assert len([u for u in delivered if "message" in u]) == 3  # separate updates


async def test_album_rules(env: Env) -> None:
    emu = env.emu
    with pytest.raises(SandboxError, match="2 to 10"):
        emu.send_album(ALICE, photos(1))
    with pytest.raises(SandboxError, match="2 to 10"):
        emu.send_album(ALICE, photos(11))
    mixed = [*photos(1), AlbumItem("document", "a.txt", b"x")]
    with pytest.raises(SandboxError, match="only be grouped with documents"):
        emu.send_album(ALICE, mixed)
    with pytest.raises(SandboxError, match="not a PNG"):
        emu.send_album(ALICE, [AlbumItem("photo", "x.png", b"text"), *photos(1)])
    assert emu.messages(ALICE) == []  # a refused album sends nothing
    docs = [AlbumItem("document", f"{i}.txt", f"line {i}".encode()) for i in range(2)]
    first, second = emu.send_album(ALICE, docs)
    assert first.media_group_id == second.media_group_id
    assert first.document is not None
    assert first.document["file_name"] == "0.txt"
    again = emu.send_album(ALICE, photos(2), reply_to=first.message_id)
    assert again[0].media_group_id != first.media_group_id
    assert [m.reply_to_message_id for m in again] == [first.message_id] * 2


async def test_injected_faults_answer_like_telegram(env: Env) -> None:
    emu, bot = env.emu, env.bot
    emu.create_user(ALICE, "Alice", started=True)
    emu.create_user(BOB, "Bob", started=True)
    emu.faults.inject("sendMessage", 502, "Bad Gateway", times=2, chat_id=ALICE)
    await bot.send_message(BOB, "other chats are not affected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(ALICE, "during the outage")
    await bot.send_message(ALICE, "after it")
    assert [m.text for m in emu.messages(ALICE)] == ["after it"]
    failed = [c for c in emu.calls("sendMessage") if not c.ok]
    assert [(c.error_code, c.description) for c in failed] == [(502, "Bad Gateway")] * 2

    emu.faults.inject("sendPhoto", 429, "Too Many Requests: retry after 3", retry_after=3)
    await bot.send_message(ALICE, "only sendPhoto is throttled")
    with pytest.raises(TelegramRetryAfter) as waited:
        await bot.send_photo(ALICE, "any")
    assert waited.value.retry_after == 3
    emu.faults.inject("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(BOB, "x")
    with pytest.raises(SandboxError):
        emu.faults.inject("sendMessage", 200, "OK")
    with pytest.raises(SandboxError):
        emu.faults.inject("sendMessage", 429, "Too Many Requests: retry after 1")
    assert emu.faults.pending == []


async def test_sends_to_users_who_never_started_the_bot_fail_like_telegram(env: Env) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await env.bot.send_message(777, "nobody by that id")
    env.emu.create_user(BOB, "Bob")  # known, but never pressed Start
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await env.bot.send_message(BOB, "hello")
