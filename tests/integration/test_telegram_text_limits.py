"""The emulator counts Telegram's text limits as Telegram does: 4096 (message text) and
1024 (caption) on the text after entity parsing, in UTF-16 code units."""

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from shopbot.sandbox.telegram import SandboxError
from tests.integration.test_telegram_emulator import ALICE, Env, env

__all__ = ["env"]  # the fixture, shared with the emulator's main tests

ASTRAL = "😀"  # outside the BMP: 2 UTF-16 code units


async def test_message_text_counts_parsed_text_not_html_source(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    escaped = "&amp;" * 4096  # 20480 characters of source, 4096 of text
    sent = await env.bot.send_message(ALICE, f"<b>{escaped}</b>")
    assert sent.text == "&" * 4096
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.send_message(ALICE, escaped + "x")
    assert error.value.message == "Bad Request: message is too long"


async def test_message_text_counts_utf16_code_units(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    await env.bot.send_message(ALICE, ASTRAL * 2048)  # 2048 characters, 4096 units
    await env.bot.send_message(ALICE, "я" * 4096)  # Cyrillic: 1 unit each
    for text in (ASTRAL * 2048 + "x", ASTRAL * 2049, "я" * 4097):
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await env.bot.send_message(ALICE, text)
    sent = await env.bot.send_message(ALICE, "short")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await env.bot.edit_message_text(ASTRAL * 2049, chat_id=ALICE, message_id=sent.message_id)
    await env.bot.edit_message_text("&lt;" * 4096, chat_id=ALICE, message_id=sent.message_id)
    assert env.emu.messages(ALICE)[-1].text == "<" * 4096


async def test_captions_count_parsed_utf16_code_units(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    file = BufferedInputFile(b"abc", "a.txt")
    sent = await env.bot.send_document(ALICE, file, caption="<i>" + "&amp;" * 1024 + "</i>")
    assert sent.caption == "&" * 1024
    for caption in (ASTRAL * 513, "&amp;" * 1025):
        with pytest.raises(TelegramBadRequest) as error:
            await env.bot.send_document(ALICE, file, caption=caption)
        assert error.value.message == "Bad Request: message caption is too long"
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await env.bot.edit_message_caption(
            chat_id=ALICE, message_id=sent.message_id, caption=ASTRAL * 513
        )
    await env.bot.edit_message_caption(
        chat_id=ALICE, message_id=sent.message_id, caption=ASTRAL * 512
    )


def test_simulated_users_obey_the_same_limits(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    env.emu.send_text(ALICE, ASTRAL * 2048)
    with pytest.raises(SandboxError, match="4096 UTF-16 code units"):
        env.emu.send_text(ALICE, ASTRAL * 2048 + "x")
    env.emu.send_document(ALICE, "a.txt", b"abc", caption=ASTRAL * 512)
    with pytest.raises(SandboxError, match="1024 UTF-16 code units"):
        env.emu.send_document(ALICE, "a.txt", b"abc", caption=ASTRAL * 513)
