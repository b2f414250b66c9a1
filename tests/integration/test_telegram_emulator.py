"""The Telegram Bot API emulator driven by the real aiogram `Bot` and `Dispatcher` over
HTTP: wire format and real error descriptions, polling and webhook delivery (retries,
secret token, methods answered in the webhook reply), files, Stars payments, flood control,
blocked users and the /sandbox control API."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.sandbox.telegram import EMULATOR, Emulator, EmulatorConfig, create_app

TOKEN = "123456:TEST-token_for-the-emulator"
SECRET = "s3cret_Token-1"
ALICE = 1001
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass
class Env:
    emu: Emulator
    bot: Bot
    base_url: str
    seen: list[Any] = field(default_factory=list)  # what the test bot's handlers saw


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    config = EmulatorConfig(
        bots={TOKEN: (123456, "shop_test_bot", "Shop")}, webhook_base_delay=0.05
    )
    app = create_app(config)
    async with serve_aiohttp(app) as base_url:
        bot = make_bot(base_url)
        try:
            yield Env(app[EMULATOR], bot, base_url)
        finally:
            await bot.session.close()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


def shop_router(env: Env) -> Router:
    """Echo texts (with a button), answer and edit on button presses, download documents,
    accept pre-checkout queries unless the payload starts with "bad", record payments."""
    router = Router()
    failures = {"boom": 1}

    @router.message(F.text == "reply-method")
    async def via_webhook_reply(message: Message) -> Any:
        return message.answer("sent in the webhook answer")  # returned, not awaited

    @router.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        if failures.get(message.text, 0) > 0:
            failures[message.text] -= 1
            raise RuntimeError("handler failed once")
        env.seen.append(message.text)
        await message.answer(
            f"echo: {html.quote(message.text)}", reply_markup=keyboard([("Ping", "ping")])
        )

    @router.callback_query(F.data == "ping")
    async def ping(callback: CallbackQuery) -> None:
        await callback.answer("pong!", show_alert=True)
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("<i>pressed</i>")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        env.seen.append(data.read())
        await message.answer(f"got {message.document.file_name}")

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        if query.invoice_payload.startswith("bad"):
            await query.answer(ok=False, error_message="Out of stock")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        env.seen.append(message.successful_payment)

    return router


@asynccontextmanager
async def polling(env: Env) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher()
    dispatcher.include_router(shop_router(env))
    task = asyncio.create_task(
        dispatcher.start_polling(
            env.bot, handle_signals=False, close_bot_session=False, polling_timeout=2
        )
    )
    try:
        yield dispatcher  # updates queued before the first getUpdates simply wait for it
    finally:
        await dispatcher.stop_polling()
        await task


@asynccontextmanager
async def webhook(env: Env, secret: str = SECRET) -> AsyncIterator[str]:
    """The bot's own aiohttp webhook app (aiogram's SimpleRequestHandler, answering after
    the handlers ran); yields the webhook URL."""
    dispatcher = Dispatcher()
    dispatcher.include_router(shop_router(env))
    app = web.Application()
    handler = SimpleRequestHandler(
        dispatcher, env.bot, secret_token=secret, handle_in_background=False
    )
    app.router.add_post("/tg/hook", handler.handle)  # not .register(): it closes the session
    async with serve_aiohttp(app) as hook_base:
        yield f"{hook_base}/tg/hook"


# --- plain Bot API calls ----------------------------------------------------------------


async def test_get_me_and_the_call_record(env: Env) -> None:
    me = await env.bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (123456, True, "shop_test_bot", "Shop")
    [call] = env.emu.calls("getMe")
    assert call.ok
    assert call.result["username"] == "shop_test_bot"


async def test_unknown_token_method_and_chat(env: Env) -> None:
    stranger = make_bot(env.base_url, "999:not-a-known-token")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{env.base_url}/bot{TOKEN}/sendTelepathy") as response,
    ):
        assert response.status == 404
        assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.send_message(424242, "hi")
    assert error.value.message == "Bad Request: chat not found"
    env.emu.create_user(ALICE, "Alice")  # known to Telegram, never pressed Start
    with pytest.raises(TelegramForbiddenError) as forbidden:
        await env.bot.send_message(ALICE, "hi")
    assert forbidden.value.message == "Forbidden: bot can't initiate conversation with a user"


async def test_send_message_with_inline_keyboard_is_recorded(env: Env) -> None:
    env.emu.create_user(ALICE, "Alice", username="alice", started=True)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Buy", callback_data="buy:1")],
            [InlineKeyboardButton(text="Site", url="https://example.com/shop")],
        ]
    )
    sent = await env.bot.send_message(
        ALICE, "<b>Hi</b> Alice &amp; welcome — see /help", reply_markup=markup
    )
    assert sent.text == "Hi Alice & welcome — see /help"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("bot_command", 25, 5),
    ]
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == markup.model_dump()
    message = env.emu.last_bot_message(ALICE)
    assert message is not None
    assert message.message_id == sent.message_id
    assert message.source == "<b>Hi</b> Alice &amp; welcome — see /help"
    assert message.parse_mode == "HTML"
    assert message.callback_data() == ["buy:1"]
    assert message.buttons[1] == [{"text": "Site", "url": "https://example.com/shop"}]
    [call] = env.emu.calls("sendMessage")
    assert call.params["parse_mode"] == "HTML"  # DefaultBotProperties, sent as a form field
    assert json.loads(call.params["reply_markup"])["inline_keyboard"][0][0]["callback_data"] == (
        "buy:1"
    )


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("цена <p>", 'Unsupported start tag "p" at byte offset 9'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_errors_are_telegrams(env: Env, text: str, description: str) -> None:
    env.emu.create_user(ALICE, started=True)
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.send_message(ALICE, text)
    assert error.value.message == f"Bad Request: can't parse entities: {description}"
    assert env.emu.messages(ALICE) == []
    [call] = env.emu.calls("sendMessage")
    assert (call.ok, call.error_code) == (False, 400)


async def test_text_rules(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    for text, description in [
        ("", "Bad Request: message text is empty"),  # aiogram drops empty fields
        ("  \n ", "Bad Request: message text is empty"),
        ("x" * 4097, "Bad Request: message is too long"),
    ]:
        with pytest.raises(TelegramBadRequest) as error:
            await env.bot.send_message(ALICE, text)
        assert error.value.message == description
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):
        await env.bot.send_message(ALICE, "x", parse_mode="BBCode")
    sent = await env.bot.send_message(ALICE, "Tom & Jerry <3 &lt;3 &#x1F600;".replace("<3 ", ""))
    assert sent.text == "Tom & Jerry <3 😀"  # a lone "&" is text, as in tdlib
    spoiler = await env.bot.send_message(
        ALICE, 'a <span class="tg-spoiler">secret</span> 🎉 <u>u</u>'
    )
    assert spoiler.entities is not None
    assert [(e.type, e.offset, e.length) for e in spoiler.entities] == [
        ("spoiler", 2, 6),
        ("underline", 12, 1),  # offsets count UTF-16 units: 🎉 is two
    ]
    plain = await env.bot.send_message(ALICE, "<b>not parsed</b>", parse_mode=None)
    assert plain.text == "<b>not parsed</b>"
    assert not plain.entities


async def test_callback_data_limits(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    await env.bot.send_message(ALICE, "64 bytes", reply_markup=keyboard([("ok", "я" * 32)]))
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.send_message(
            ALICE, "65 bytes", reply_markup=keyboard([("no", "я" * 32 + "!")])
        )
    assert error.value.message == "Bad Request: BUTTON_DATA_INVALID"
    text_only = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="just text")]])
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.send_message(ALICE, "no kind", reply_markup=text_only)
    assert error.value.message == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )
    assert len(env.emu.messages(ALICE)) == 1


async def test_edit_message_text_and_not_modified(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    sent = await env.bot.send_message(ALICE, "Cart: 1 item", reply_markup=keyboard([("+", "add")]))
    edited = await env.bot.edit_message_text(
        "Cart: <b>2</b> items",
        chat_id=ALICE,
        message_id=sent.message_id,
        reply_markup=keyboard([("+", "add")]),
    )
    assert isinstance(edited, Message)
    assert edited.text == "Cart: 2 items"
    assert edited.edit_date is not None
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.edit_message_text(
            "Cart: <b>2</b> items",
            chat_id=ALICE,
            message_id=sent.message_id,
            reply_markup=keyboard([("+", "add")]),
        )
    assert error.value.message == NOT_MODIFIED
    # Without reply_markup an edit removes the inline keyboard (Telegram does the same).
    await env.bot.edit_message_text("Cart: 2 items", chat_id=ALICE, message_id=sent.message_id)
    [message] = env.emu.messages(ALICE)
    assert message.text == "Cart: 2 items"
    assert message.reply_markup is None
    assert [edit["text"] for edit in message.edits] == ["Cart: 1 item", "Cart: 2 items"]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await env.bot.edit_message_text("x", chat_id=ALICE, message_id=99)
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.edit_message_reply_markup(chat_id=ALICE, message_id=sent.message_id)
    assert error.value.message == NOT_MODIFIED
    assert await env.bot.delete_message(ALICE, sent.message_id) is True
    assert env.emu.messages(ALICE) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await env.bot.delete_message(ALICE, sent.message_id)


# --- a real Dispatcher: polling and webhook ------------------------------------------------


async def test_dispatcher_polling(env: Env) -> None:
    async with polling(env):
        env.emu.send_text(ALICE, "hello <world>")
        await env.emu.wait_idle()
        reply = env.emu.last_bot_message(ALICE)
        assert reply is not None
        assert reply.text == "echo: hello <world>"
        query_id = env.emu.press(ALICE, reply.message_id, "ping")
        answer = await env.emu.wait_callback_answer(query_id)
        assert (answer.text, answer.show_alert) == ("pong!", True)
        await env.emu.wait_idle()
        assert reply.text == "pressed"
        assert reply.entities == [{"offset": 0, "length": 7, "type": "italic"}]
    assert env.seen == ["hello <world>"]
    allowed = json.loads(env.emu.calls("getUpdates")[0].params["allowed_updates"])
    assert {"message", "callback_query", "pre_checkout_query"} <= set(allowed)
    assert [m.sender for m in env.emu.messages(ALICE)] == ["user", "bot"]


async def test_dispatcher_webhook_with_retries(env: Env) -> None:
    emu = env.emu
    async with webhook(env) as url:
        assert await env.bot.set_webhook(url, secret_token=SECRET) is True
        info = await env.bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.max_connections) == (url, 0, 40)
        with pytest.raises(TelegramConflictError) as error:
            await env.bot.get_updates()
        assert error.value.message == (
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )

        emu.send_text(ALICE, "hi")
        await emu.wait_idle()
        reply = emu.last_bot_message(ALICE)
        assert reply is not None
        assert reply.text == "echo: hi"
        query_id = emu.press(ALICE, reply.message_id, "ping")
        await emu.wait_idle()
        assert emu.callback_answer(query_id).text == "pong!"
        assert reply.text == "pressed"

        boom = emu.send_text(ALICE, "boom")  # the handler raises once: 500, redelivered
        await emu.wait_idle()
        update_id = emu.deliveries()[-1]["update_id"]
        attempts = [d for d in emu.deliveries() if d["update_id"] == update_id]
        assert [(a["attempt"], a["status"], a["ok"], a["from_id"]) for a in attempts] == [
            (1, 500, False, ALICE),
            (2, 200, True, ALICE),
        ]
        assert attempts[0]["error"] == "Wrong response from the webhook: 500 Internal Server Error"
        assert env.seen == ["hi", "boom"]
        assert [m.text for m in emu.messages(ALICE)[-2:]] == ["boom", "echo: boom"]
        assert emu.messages(ALICE)[-2] is boom

        emu.send_text(ALICE, "reply-method")  # a handler *returns* a method
        await emu.wait_idle()
        assert emu.messages(ALICE)[-1].text == "sent in the webhook answer"
        assert emu.calls("sendMessage")[-1].via == "webhook_reply"

        info = await env.bot.get_webhook_info()
        assert info.last_error_message is not None
        assert "500" in info.last_error_message
        assert {d["ok"] for d in emu.deliveries()[-1:]} == {True}


async def test_webhook_wrong_secret_is_retried(env: Env) -> None:
    emu = env.emu
    async with webhook(env, secret=SECRET) as url:
        await env.bot.set_webhook(url, secret_token="not-the-secret")
        emu.send_text(ALICE, "are you there?")
        await emu.wait_for(lambda: len(emu.deliveries()) >= 2, 5)
        assert {(d["status"], d["ok"]) for d in emu.deliveries()} == {(401, False)}
        assert emu.deliveries()[0]["error"] == "Wrong response from the webhook: 401 Unauthorized"
        info = await env.bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"
        with pytest.raises(TimeoutError, match="not idle"):
            await emu.wait_idle(0.3)
        assert await env.bot.set_webhook(url, secret_token=SECRET) is True
        await emu.wait_idle()
    assert env.seen == ["are you there?"]
    last = emu.deliveries()[-1]
    assert (last["status"], last["ok"], last["update_id"]) == (200, True, 1)


async def test_get_updates_offsets_and_long_polling(env: Env) -> None:
    emu = env.emu
    emu.send_text(ALICE, "one")
    emu.send_text(ALICE, "two")
    updates = await env.bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    again = await env.bot.get_updates(offset=updates[1].update_id)
    assert [u.update_id for u in again] == [updates[1].update_id]  # the first is confirmed
    assert await env.bot.get_updates(offset=updates[1].update_id + 1, timeout=0) == []

    async def later() -> None:
        await asyncio.sleep(0.2)
        emu.send_text(ALICE, "three")

    task = asyncio.create_task(later())
    started = asyncio.get_running_loop().time()
    woken = await env.bot.get_updates(offset=updates[1].update_id + 1, timeout=5)
    await task
    assert [u.message.text for u in woken if u.message] == ["three"]
    assert asyncio.get_running_loop().time() - started < 2


async def test_webhook_connection_refused_then_dropped(env: Env) -> None:
    emu = env.emu
    async with serve_aiohttp(web.Application()) as gone:
        dead_url = f"{gone}/hook"
    await env.bot.set_webhook(dead_url)
    emu.send_text(ALICE, "lost")
    await emu.wait_for(lambda: emu.deliveries(), 5)
    assert emu.deliveries()[0]["error"] == "Connection refused"
    info = await env.bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_message) == (1, "Connection refused")
    assert await env.bot.delete_webhook(drop_pending_updates=True) is True
    assert (await env.bot.get_webhook_info()).pending_update_count == 0
    assert await env.bot.get_updates(timeout=0) == []


# --- files ----------------------------------------------------------------------------------


async def test_documents_both_ways(env: Env) -> None:
    emu = env.emu
    async with polling(env):
        emu.send_document(ALICE, "notes.txt", b"hello, file", caption="my notes")
        await emu.wait_idle()
    assert env.seen == [b"hello, file"]
    user_message = emu.messages(ALICE)[0]
    assert user_message.document is not None
    assert user_message.document["mime_type"] == "text/plain"
    file = await env.bot.get_file(user_message.document["file_id"])
    assert file.file_size == 11
    assert file.file_path is not None

    upload = BufferedInputFile(b"a,b\n1,2\n", filename="report.csv")
    sent = await env.bot.send_document(ALICE, upload, caption="<b>report</b>")
    assert sent.document is not None
    assert sent.document.file_name == "report.csv"
    assert sent.caption == "report"
    buffer = io.BytesIO()
    await env.bot.download(sent.document, destination=buffer)
    assert buffer.getvalue() == b"a,b\n1,2\n"
    again = await env.bot.send_document(ALICE, sent.document.file_id)  # by file_id
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await env.bot.send_document(ALICE, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await env.bot.send_photo(ALICE, BufferedInputFile(b"not an image", filename="x.png"))


async def test_copy_message_text_document_and_location(env: Env) -> None:
    emu, bob = env.emu, 1002
    emu.create_user(bob, "Bob", started=True)
    text = emu.send_text(ALICE, "see https://example.com")
    document = emu.send_document(ALICE, "a.txt", b"abc", caption="old caption")
    location = emu.send_location(ALICE, 51.5007, -0.1246)
    [*_, update] = await env.bot.get_updates(timeout=0)  # the user's location as Telegram has it
    assert update.message is not None
    assert update.message.location is not None
    assert (update.message.location.latitude, update.message.location.longitude) == (
        51.5007,
        -0.1246,
    )

    copied = await env.bot.copy_message(
        bob, ALICE, text.message_id, reply_markup=keyboard([("Ok", "ok")])
    )
    copy = emu.messages(bob)[-1]
    assert copied.message_id == copy.message_id
    assert (copy.sender, copy.chat_id, copy.text) == ("bot", bob, "see https://example.com")
    assert copy.entities == text.entities
    assert copy.callback_data() == ["ok"]
    assert copy.reply_to_message_id is None  # no link to the original

    await env.bot.copy_message(bob, ALICE, document.message_id, caption="<b>new</b> caption")
    copy = emu.messages(bob)[-1]
    assert copy.document == document.document
    assert (copy.caption, copy.caption_entities) == (
        "new caption",
        [{"offset": 0, "length": 3, "type": "bold"}],
    )
    await env.bot.copy_message(bob, ALICE, document.message_id)  # the caption is kept
    assert emu.messages(bob)[-1].caption == "old caption"
    form = {"chat_id": bob, "from_chat_id": ALICE, "message_id": document.message_id}
    async with (  # aiogram drops empty fields; an empty caption removes the original one
        aiohttp.ClientSession() as http,
        http.post(f"{env.base_url}/bot{TOKEN}/copyMessage", data=form | {"caption": ""}) as answer,
    ):
        assert (await answer.json())["ok"] is True
    assert emu.messages(bob)[-1].caption is None

    await env.bot.copy_message(ALICE, ALICE, location.message_id)
    copy = emu.messages(ALICE)[-1]
    assert copy.sender == "bot"
    assert copy.location == {"latitude": 51.5007, "longitude": -0.1246}
    assert emu.message_json(emu.bot(), copy)["location"] == copy.location
    [call] = [c for c in emu.calls("copyMessage") if c.params["chat_id"] == str(ALICE)]
    assert call.result == {"message_id": copy.message_id}


async def test_copy_message_errors(env: Env) -> None:
    emu = env.emu
    text = emu.send_text(ALICE, "hello")
    with pytest.raises(TelegramBadRequest) as missing:
        await env.bot.copy_message(ALICE, ALICE, 999)
    assert missing.value.message == "Bad Request: message to copy not found"
    await env.bot.delete_message(ALICE, text.message_id)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await env.bot.copy_message(ALICE, ALICE, text.message_id)
    with pytest.raises(TelegramBadRequest) as no_chat:
        await env.bot.copy_message(ALICE, 424242, 1)
    assert no_chat.value.message == "Bad Request: chat not found"
    invoice = await send_stars_invoice(env, "not-copyable")
    with pytest.raises(TelegramBadRequest) as service:
        await env.bot.copy_message(ALICE, ALICE, invoice.message_id)
    assert service.value.message == "Bad Request: message can't be copied"
    document = emu.send_document(ALICE, "a.txt", b"abc")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await env.bot.copy_message(ALICE, ALICE, document.message_id, caption="x" * 1025)
    location = emu.send_location(ALICE, 0, 0)
    emu.block(ALICE)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await env.bot.copy_message(ALICE, ALICE, location.message_id)
    emu.unblock(ALICE)
    bob = emu.create_user(1002, "Bob", started=True).id  # no recent sends to this chat
    emu.set_flood(per_chat=1, global_rate=None)
    await env.bot.copy_message(bob, ALICE, location.message_id)
    with pytest.raises(TelegramRetryAfter):
        await env.bot.copy_message(bob, ALICE, location.message_id)
    assert {c.error_code for c in emu.calls("copyMessage") if not c.ok} == {400, 403, 429}


async def test_photo_commands_actions_and_reply_keyboards(env: Env) -> None:
    env.emu.create_user(ALICE, "Alice", username="alice", started=True)
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + (640).to_bytes(4) + (480).to_bytes(4)
    photo = await env.bot.send_photo(ALICE, BufferedInputFile(png, filename="p.png"))
    assert photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert await env.bot.send_chat_action(ALICE, "typing") is True
    assert env.emu.chat(ALICE).actions[-1][1] == "typing"
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await env.bot.send_chat_action(ALICE, "dancing")
    chat = await env.bot.get_chat("@alice")
    assert (chat.id, chat.type, chat.username) == (ALICE, "private", "alice")

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="paysupport", description="Payment help"),
    ]
    assert await env.bot.set_my_commands(commands) is True
    assert [c.command for c in await env.bot.get_my_commands()] == ["start", "paysupport"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await env.bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await env.bot.delete_my_commands() is True
    assert await env.bot.get_my_commands() == []

    menu = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Catalog")]], resize_keyboard=True)
    await env.bot.send_message(ALICE, "Menu", reply_markup=menu)
    assert env.emu.chat(ALICE).reply_keyboard == {
        "keyboard": [[{"text": "Catalog"}]],
        "resize_keyboard": True,
    }
    await env.bot.send_message(ALICE, "Bye", reply_markup=ReplyKeyboardRemove())
    assert env.emu.chat(ALICE).reply_keyboard is None


# --- Telegram Stars -------------------------------------------------------------------------


async def send_stars_invoice(env: Env, payload: str, amount: int = 50) -> Message:
    return await env.bot.send_invoice(
        chat_id=ALICE,
        title="50 credits",
        description="Shop balance top-up",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice(label="Credits", amount=amount)],
    )


async def test_stars_payment_refund_and_decline(env: Env) -> None:
    emu = env.emu
    emu.create_user(ALICE, "Alice", started=True)
    async with polling(env):
        invoice = await send_stars_invoice(env, "order-1")
        assert invoice.invoice is not None
        assert invoice.invoice.total_amount == 50
        outcome = await emu.pay(ALICE, invoice.message_id)
        assert outcome.status == "paid"
        assert outcome.charge_id is not None
        await emu.wait_idle()
        [payment] = env.seen
        assert payment.telegram_payment_charge_id == outcome.charge_id
        assert (payment.currency, payment.total_amount, payment.invoice_payload) == (
            "XTR",
            50,
            "order-1",
        )
        second = await send_stars_invoice(env, "order-2", 10)
        other = await emu.pay(ALICE, second.message_id)
        assert other.paid
        assert other.charge_id != outcome.charge_id

        declined_invoice = await send_stars_invoice(env, "bad-order")
        declined = await emu.pay(ALICE, declined_invoice.message_id)
        assert (declined.status, declined.error_message) == ("declined", "Out of stock")
        await emu.wait_idle()
    payments = [m.successful_payment for m in emu.messages(ALICE) if m.successful_payment]
    assert [p["invoice_payload"] for p in payments] == ["order-1", "order-2"]

    assert await env.bot.refund_star_payment(ALICE, outcome.charge_id) is True
    with pytest.raises(TelegramBadRequest) as error:
        await env.bot.refund_star_payment(ALICE, outcome.charge_id)
    assert error.value.message == "Bad Request: CHARGE_ALREADY_REFUNDED"
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await env.bot.refund_star_payment(ALICE, "stx-unknown")
    transactions = (await env.bot.get_star_transactions()).transactions
    assert [(t.id, t.amount, t.source is None) for t in transactions] == [
        (outcome.charge_id, 50, False),
        (other.charge_id, 10, False),
        (outcome.charge_id, 50, True),  # the refund goes to the user (receiver)
    ]


async def test_stars_invoice_rules_and_unanswered_pre_checkout(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"provider_token": "123:LIVE"}, "Bad Request: STARS_INVOICE_INVALID"),
        (
            {"prices": [LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=1)]},
            "Bad Request: STARS_INVOICE_INVALID",
        ),
        ({"payload": "p" * 129}, "Bad Request: INVOICE_PAYLOAD_INVALID"),
        ({"prices": []}, "Bad Request: there must be at least one price"),
    ]
    for kwargs, description in cases:
        arguments: dict[str, Any] = {
            "chat_id": ALICE,
            "title": "t",
            "description": "d",
            "payload": "p",
            "currency": "XTR",
            "prices": [LabeledPrice(label="x", amount=5)],
        } | kwargs
        with pytest.raises(TelegramBadRequest) as error:
            await env.bot.send_invoice(**arguments)
        assert error.value.message == description
    invoice = await send_stars_invoice(env, "order-9")
    outcome = await env.emu.pay(ALICE, invoice.message_id, timeout=0.2)  # nobody answers
    assert outcome.status == "timeout"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await env.bot.answer_pre_checkout_query(outcome.pre_checkout_query_id, ok=True)


# --- flood control and blocking -----------------------------------------------------------


async def test_flood_limit(env: Env) -> None:
    env.emu.create_user(ALICE, started=True)
    env.emu.set_flood(per_chat=None, global_rate=5)
    results: list[Message | TelegramRetryAfter] = []
    for index in range(10):
        try:
            results.append(await env.bot.send_message(ALICE, f"burst {index}"))
        except TelegramRetryAfter as error:
            results.append(error)
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert refused
    assert all(r.retry_after >= 1 for r in refused)
    # aiogram rewrites the message; the description is kept at its end
    assert "Original description: Too Many Requests: retry after 1" in refused[0].message
    assert len(env.emu.messages(ALICE)) == 10 - len(refused) == 5
    assert {c.error_code for c in env.emu.calls("sendMessage") if not c.ok} == {429}


async def test_blocked_user(env: Env) -> None:
    emu = env.emu
    emu.send_text(ALICE, "/start")
    emu.block(ALICE)
    with pytest.raises(TelegramForbiddenError) as error:
        await env.bot.send_message(ALICE, "news!")
    assert error.value.message == "Forbidden: bot was blocked by the user"
    updates = await env.bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    emu.unblock(ALICE)
    await env.bot.send_message(ALICE, "welcome back")
    assert [m.text for m in emu.messages(ALICE)] == ["/start", "welcome back"]
    assert emu.messages(ALICE)[0].entities == [{"offset": 0, "length": 6, "type": "bot_command"}]


# --- control API ------------------------------------------------------------------------------


async def test_control_api_creates_users_in_bulk_with_open_chats(env: Env) -> None:
    """A broadcast drill's audience in one request: each user exists with an open chat,
    so the bot can message them (a user who never opened a chat would answer 400)."""
    async with aiohttp.ClientSession(base_url=env.base_url) as http:
        body = {"first_id": 800_001, "count": 3, "started": True}
        async with http.post("/sandbox/users/bulk", json=body) as response:
            assert response.status == 200
            assert await response.json() == {"created": 3, "first_id": 800_001, "last_id": 800_003}
        for bad in ({"first_id": 1, "count": 0}, {"first_id": 0, "count": 1}, {"count": 2}):
            async with http.post("/sandbox/users/bulk", json=bad) as response:
                assert response.status == 400, bad
    assert [env.emu.user(n).first_name for n in (800_001, 800_003)] == ["User800001", "User800003"]
    sent = await env.bot.send_message(800_002, "hello")
    assert [m.text for m in env.emu.messages(800_002)] == ["hello"]
    assert sent.chat.id == 800_002
    assert 800_004 not in env.emu.users


async def test_control_api(env: Env) -> None:
    async with aiohttp.ClientSession(base_url=env.base_url) as http:

        async def call(verb: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with http.request(verb, path, json=body) as response:
                if response.content_type == "application/json":
                    return response.status, await response.json()
                return response.status, await response.read()

        status, user = await call("POST", "/sandbox/users", {"id": ALICE, "first_name": "Al"})
        assert (status, user["first_name"]) == (200, "Al")
        status, message = await call("POST", f"/sandbox/users/{ALICE}/send", {"text": "/start x"})
        assert status == 200
        assert message["entities"][0]["type"] == "bot_command"
        sent = await env.bot.send_message(ALICE, "menu", reply_markup=keyboard([("Go", "go")]))
        status, pressed = await call(
            "POST",
            f"/sandbox/users/{ALICE}/press",
            {"message_id": sent.message_id, "callback_data": "go"},
        )
        assert status == 200
        await env.bot.answer_callback_query(pressed["callback_query_id"], text="Going")
        status, answer = await call("GET", f"/sandbox/callbacks/{pressed['callback_query_id']}")
        assert answer["text"] == "Going"
        assert answer["answered"] is True
        status, wrong = await call(
            "POST",
            f"/sandbox/users/{ALICE}/press",
            {"message_id": sent.message_id, "callback_data": "no"},
        )
        assert status == 400
        assert "no button" in wrong["error"]
        status, doc = await call(
            "POST", f"/sandbox/users/{ALICE}/document", {"filename": "a.txt", "content": "abc"}
        )
        status, content = await call("GET", f"/sandbox/files/{doc['document']['file_id']}")
        assert content == b"abc"
        status, messages = await call("GET", f"/sandbox/chats/{ALICE}/messages")
        assert [m["sender"] for m in messages] == ["user", "bot", "user"]
        status, calls = await call("GET", "/sandbox/calls?method=sendMessage")
        assert [c["params"]["text"] for c in calls] == ["menu"]
        status, state = await call("GET", "/sandbox/state")
        assert state["bots"][0]["pending_update_count"] == 3  # nobody fetched them
        status, idle = await call("GET", "/sandbox/idle?timeout=0.2")
        assert status == 504
        assert idle["idle"] is False
        invoice = await env.bot.send_invoice(
            ALICE, "t", "d", "p", currency="XTR", prices=[LabeledPrice(label="x", amount=1)]
        )
        status, outcome = await call(
            "POST",
            f"/sandbox/users/{ALICE}/pay",
            {"message_id": invoice.message_id, "timeout": 0.1},
        )
        assert (status, outcome["status"]) == (200, "timeout")
        status, shared = await call(
            "POST", f"/sandbox/users/{ALICE}/location", {"latitude": 48.8584, "longitude": 2.2945}
        )
        assert (status, shared["location"]) == (200, {"latitude": 48.8584, "longitude": 2.2945})
        status, wrong = await call(
            "POST", f"/sandbox/users/{ALICE}/location", {"latitude": 91, "longitude": 0}
        )
        assert status == 400
        assert "latitude" in wrong["error"]
        status, flood = await call("POST", "/sandbox/flood", {"per_chat": 1, "global": None})
        assert flood == {"per_chat": 1, "global": None}
        status, blocked = await call("POST", f"/sandbox/users/{ALICE}/block")
        assert blocked == {"blocked": True}
        status, _ = await call("POST", f"/sandbox/users/{ALICE}/send", {"text": "hi"})
        assert status == 409


def test_command_line_sets_webhook_attempts() -> None:
    """The live drills' overlay gives Telegram's redelivery more attempts than the
    default, so a primary restart on a slow machine does not exhaust them."""
    from shopbot.sandbox.telegram.__main__ import parse

    _, default = parse(["--token", "1:x"])
    _, more = parse(["--token", "1:x", "--webhook-attempts", "12", "--global-rate", "30"])
    assert (default.webhook_attempts, more.webhook_attempts) == (8, 12)
    assert more.global_rate == 30
    assert more.bots == {"1:x": (1, "sandbox_shop_bot", "Sandbox Shop")}
