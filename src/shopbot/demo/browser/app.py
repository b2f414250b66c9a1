"""The browser sandbox's HTTP side: the page, and a small JSON API that acts through the
very Telegram emulator object the tests drive (`Emulator.send_text`, `.press`, `.pay`,
...), so the page has no fake logic of its own. Heleket payments happen on the Heleket
emulator's own payment page, linked from the bot's invoice button.

GET  /                                  the page
GET  /api/session                       bot name, identities, shop currency
GET  /api/chats/{id}                    {"messages": [...], "keyboard": reply keyboard}
POST /api/chats/{id}/send               {"text"}
POST /api/chats/{id}/press              {"message_id", "callback_data"} -> the bot's answer
POST /api/chats/{id}/document           {"filename", "content_base64", "mime_type"}
POST /api/chats/{id}/pay                {"message_id"}: pay a Stars invoice
GET  /api/files/{file_id}               a file the bot or a user sent
GET  /api/panel/{id}                    balance, ledger, orders, invoices
"""

import base64
import binascii
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from shopbot.demo.browser.identities import IDENTITIES, identity
from shopbot.demo.browser.panel import panel
from shopbot.demo.stack import BOT_NAME, DemoStack
from shopbot.sandbox.telegram.control import as_int, json_response, read_json_object
from shopbot.sandbox.telegram.state import SandboxError, UnknownReference

PAGE = Path(__file__).with_name("page.html")
CALLBACK_ANSWER_WAIT = 5.0
MAX_UPLOAD = 5 * 1024 * 1024
Handler = Callable[[web.Request, int], Awaitable[Any]]
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PAGE_POLICY = (
    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'"
)


def create_app(stack: DemoStack) -> web.Application:
    emulator = stack.emulator
    app = web.Application(client_max_size=MAX_UPLOAD * 2)

    def for_identity(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            # A cross-site form can post text/plain to loopback; JSON forces a CORS
            # preflight, which this server never grants.
            if request.method == "POST" and request.content_type != "application/json":
                return json_response({"error": "send application/json"}, 415)
            try:
                user_id = as_int(request.match_info["id"], "identity")
                if identity(user_id) is None:
                    raise UnknownReference(f"no identity {user_id} in the sandbox")
                result = await handler(request, user_id)
            except SandboxError as exc:
                return json_response({"error": str(exc)}, exc.status)
            return json_response(result)

        return wrapped

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=PAGE.read_text(encoding="utf-8"),
            content_type="text/html",
            headers={"Content-Security-Policy": PAGE_POLICY},
        )

    async def session(request: web.Request) -> web.Response:
        return json_response(
            {
                "bot": BOT_NAME,
                "currency": stack.settings.shop_currency,
                "identities": [i.to_dict() for i in IDENTITIES],
                "servers": stack.urls,
            }
        )

    async def chat(request: web.Request, user_id: int) -> Any:
        open_chat = emulator.bot().chats.get(user_id)
        return {
            "messages": [m.to_dict() for m in emulator.messages(user_id)],
            "keyboard": None if open_chat is None else open_chat.reply_keyboard,
        }

    async def send(request: web.Request, user_id: int) -> Any:
        text = str((await read_json_object(request)).get("text", ""))
        return emulator.send_text(user_id, text).to_dict()

    async def press(request: web.Request, user_id: int) -> Any:
        body = await read_json_object(request)
        query_id = emulator.press(
            user_id, as_int(body.get("message_id"), "message_id"), str(body.get("callback_data"))
        )
        try:
            answer = await emulator.wait_callback_answer(query_id, CALLBACK_ANSWER_WAIT)
        except TimeoutError:
            return {"answered": False}
        return {"answered": True, "text": answer.text, "show_alert": answer.show_alert}

    async def document(request: web.Request, user_id: int) -> Any:
        body = await read_json_object(request)
        try:
            content = base64.b64decode(str(body.get("content_base64", "")), validate=True)
        except binascii.Error as exc:
            raise SandboxError("content_base64 is not base64") from exc
        if len(content) > MAX_UPLOAD:
            raise SandboxError(f"the sandbox takes files up to {MAX_UPLOAD // 1024 // 1024} MB")
        message = emulator.send_document(
            user_id,
            str(body.get("filename") or "file.txt"),
            content,
            body.get("mime_type") or None,
        )
        return message.to_dict()

    async def pay(request: web.Request, user_id: int) -> Any:
        body = await read_json_object(request)
        outcome = await emulator.pay(user_id, as_int(body.get("message_id"), "message_id"))
        return outcome.to_dict()

    async def file(request: web.Request) -> web.Response:
        stored = emulator.files.get(request.match_info["file_id"])
        if stored is None:
            return json_response({"error": "no such file"}, 404)
        # Files come from anyone in the chat: only raster images are shown inline; the rest
        # is downloaded, so an uploaded HTML page never runs on the sandbox's origin.
        inline = stored.mime_type in INLINE_IMAGES
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type if inline else "application/octet-stream",
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": "inline" if inline else "attachment",
            },
        )

    async def side_panel(request: web.Request, user_id: int) -> Any:
        return await panel(stack, user_id)

    router = app.router
    router.add_get("/", page)
    router.add_get("/api/session", session)
    router.add_get("/api/chats/{id}", for_identity(chat))
    for name, handler in (("send", send), ("press", press), ("document", document), ("pay", pay)):
        router.add_post(f"/api/chats/{{id}}/{name}", for_identity(handler))
    router.add_get("/api/files/{file_id}", file)
    router.add_get("/api/panel/{id}", for_identity(side_panel))
    return app
