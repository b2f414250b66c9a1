"""Groups, supergroups and channels in the Telegram emulator, driven by the real aiogram
`Bot` and `Dispatcher`: chat objects as Telegram sends them, privacy mode, button presses
in a group, anonymous admins, channel posts and the control API routes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import (
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from shopbot.sandbox.telegram import (
    Emulator,
    SandboxError,
    UnknownReference,
)
from tests.integration.test_telegram_emulator import Env, env

__all__ = ["env"]  # the fixture, shared with the emulator's main tests

GROUP, CHANNEL, SMALL_GROUP = -1001234567890, -1009876543210, -4012345
ALICE, BORIS, CAROL = 1001, 1002, 1003


@asynccontextmanager
async def recording(bot: Bot, seen: list[Any]) -> AsyncIterator[None]:
    """A dispatcher that records every message, callback, channel post and my_chat_member,
    and answers a group text with a button."""
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        seen.append(message)
        if message.text == "/menu@shop_test_bot":
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
            )
            await message.answer("menu", reply_markup=markup)

    @router.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        seen.append(query)
        await query.answer("noted")

    @router.channel_post()
    async def on_post(message: Message) -> None:
        seen.append(message)

    @router.my_chat_member()
    async def on_member(update: ChatMemberUpdated) -> None:
        seen.append(update)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await task


async def test_supergroup_messages_presses_and_privacy_mode(env: Env) -> None:
    emu: Emulator = env.emu
    seen: list[Any] = []
    async with recording(env.bot, seen):
        emu.create_group(GROUP, "Shop fans", members=[ALICE, BORIS], added_by=BORIS)
        await emu.wait_idle()
        added = seen.pop()
        assert isinstance(added, ChatMemberUpdated)
        assert (added.chat.id, added.chat.type, added.chat.title) == (
            GROUP,
            "supergroup",
            "Shop fans",
        )
        assert added.from_user.id == BORIS
        assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")

        emu.send_group_text(GROUP, ALICE, "just chatting")  # privacy mode: not for the bot
        emu.send_group_text(GROUP, ALICE, "/start@other_bot")  # another bot's command
        emu.send_group_text(GROUP, ALICE, "/menu@shop_test_bot")
        await emu.wait_idle()
        assert len(seen) == 1
        command = seen.pop()
        assert isinstance(command, Message)
        assert (command.chat.id, command.chat.type, command.from_user.id) == (  # type: ignore[union-attr]
            GROUP,
            "supergroup",
            ALICE,
        )
        assert command.entities
        assert command.entities[0].type == "bot_command"
        menu = emu.last_bot_message(GROUP)
        assert menu is not None
        assert menu.text == "menu"
        assert [m.text for m in emu.messages(GROUP)][:2] == ["just chatting", "/start@other_bot"]

        query_id = emu.press_in_group(GROUP, BORIS, menu.message_id, "go")
        answer = await emu.wait_callback_answer(query_id)
        assert answer.text == "noted"
        await emu.wait_idle()
        pressed = seen.pop()
        assert isinstance(pressed, CallbackQuery)
        assert pressed.from_user.id == BORIS
        assert isinstance(pressed.message, Message)
        assert (pressed.message.chat.id, pressed.message.chat.type) == (GROUP, "supergroup")

        emu.send_group_text(GROUP, BORIS, "thanks", reply_to=menu.message_id)  # a reply: delivered
        emu.send_group_text(GROUP, None, "/menu", as_chat=GROUP)  # an anonymous admin
        await emu.wait_idle()
        reply, anonymous = seen
        assert reply.reply_to_message.message_id == menu.message_id
        assert anonymous.sender_chat.id == GROUP
        assert anonymous.from_user.username == "GroupAnonymousBot"
        assert anonymous.from_user.is_bot

    with pytest.raises(SandboxError, match="not a member"):
        emu.send_group_text(GROUP, CAROL, "/start")
    with pytest.raises(SandboxError, match="not a member"):
        emu.press_in_group(GROUP, CAROL, menu.message_id, "go")
    with pytest.raises(UnknownReference):
        emu.send_group_text(-100555, ALICE, "/start")
    with pytest.raises(SandboxError, match="-100"):
        emu.create_group(-5, "Bad", type="supergroup")
    with pytest.raises(SandboxError, match="negative"):
        emu.create_group(5, "Bad", type="group")


async def test_bot_api_calls_on_groups(env: Env) -> None:
    emu = env.emu
    emu.create_group(SMALL_GROUP, "Basic", members=[ALICE], type="group")
    sent = await env.bot.send_message(SMALL_GROUP, "<b>hello</b> group")
    assert (sent.chat.id, sent.chat.type, sent.chat.title) == (SMALL_GROUP, "group", "Basic")
    edited = await env.bot.edit_message_text(
        "edited", chat_id=SMALL_GROUP, message_id=sent.message_id
    )
    assert isinstance(edited, Message)
    assert edited.text == "edited"
    chat = await env.bot.get_chat(SMALL_GROUP)
    assert (chat.type, chat.title) == ("group", "Basic")
    with pytest.raises(Exception, match="chat not found"):
        await env.bot.send_message(-1001111111111, "nobody added the bot here")


async def test_channel_posts_and_channel_senders(env: Env) -> None:
    emu = env.emu
    seen: list[Any] = []
    async with recording(env.bot, seen):
        emu.create_group(CHANNEL, "News", members=[ALICE], type="channel")
        emu.create_group(GROUP, "Discussion", members=[ALICE], bot_is_admin=True)
        await emu.wait_idle()
        joined = [u.new_chat_member for u in seen]
        assert all(isinstance(m, ChatMemberAdministrator) for m in joined)
        seen.clear()
        emu.send_group_text(CHANNEL, None, "a post")
        emu.send_group_text(GROUP, ALICE, "as the channel", as_chat=CHANNEL)
        emu.send_group_text(GROUP, ALICE, "not a command")  # the bot is admin: delivered
        await emu.wait_idle()
        post, on_behalf, plain = seen
        assert post.from_user is None
        assert (post.chat.type, post.sender_chat.id) == ("channel", CHANNEL)
        assert (on_behalf.sender_chat.id, on_behalf.from_user.username) == (CHANNEL, "Channel_Bot")
        assert plain.text == "not a command"


async def test_group_control_api(env: Env) -> None:
    async with aiohttp.ClientSession(base_url=env.base_url) as http:

        async def post(path: str, body: Any) -> tuple[int, Any]:
            async with http.post(path, json=body) as response:
                return response.status, await response.json()

        status, chat = await post(
            "/sandbox/groups", {"id": GROUP, "title": "Fans", "members": [ALICE, BORIS]}
        )
        assert (status, chat["type"], chat["members"]) == (200, "supergroup", [ALICE, BORIS])
        status, _ = await post("/sandbox/groups", {"id": GROUP, "title": "Again"})
        assert status == 409
        status, message = await post(
            f"/sandbox/groups/{GROUP}/send", {"user_id": ALICE, "text": "/start@shop_test_bot"}
        )
        assert (status, message["chat_id"], message["from_user"]["id"]) == (200, GROUP, ALICE)
        sent = await env.bot.send_message(
            GROUP,
            "menu",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
            ),
        )
        status, pressed = await post(
            f"/sandbox/groups/{GROUP}/press",
            {"user_id": BORIS, "message_id": sent.message_id, "callback_data": "go"},
        )
        assert status == 200
        assert pressed["callback_query_id"]
        status, error = await post(
            f"/sandbox/groups/{GROUP}/send", {"user_id": 4242, "text": "/start"}
        )
        assert status == 400
        assert "not a member" in error["error"]
        status, _ = await post("/sandbox/groups", {"id": -42, "title": "x", "type": "group"})
        assert status == 200
        async with http.get("/sandbox/state") as response:
            chats = (await response.json())["bots"][0]["chats"]
        assert {(c["id"], c["type"]) for c in chats} == {(GROUP, "supergroup"), (-42, "group")}
    updates = [u.type for u in env.emu.bot().updates]
    assert updates == ["my_chat_member", "message", "callback_query", "my_chat_member"]
