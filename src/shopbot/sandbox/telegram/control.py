"""The JSON control API under /sandbox (tests, the browser sandbox). Every route acts
through the same `Emulator` methods as the Python API; `?bot=<id or username>` picks a
bot (default: the first). Errors: {"error": "..."} with 400, 404 or 409.

GET  /sandbox/state                        bots, chats, users, flood limits
POST /sandbox/users                        {"id", "first_name", "username", "language_code",
                                            "started"} -> user
POST /sandbox/users/bulk                   {"first_id", "count", "language_code", "started"}
                                            -> {"created", "first_id", "last_id"}
POST /sandbox/users/{id}/send              {"text", "reply_to"} -> message
POST /sandbox/users/{id}/press             {"message_id", "callback_data"} -> {"callback_query_id"}
POST /sandbox/users/{id}/document          {"filename", "content" | "content_base64",
                                            "mime_type", "caption"} -> message
POST /sandbox/users/{id}/location          {"latitude", "longitude", "reply_to"} -> message
POST /sandbox/users/{id}/pay               {"message_id", "timeout"} -> payment outcome
POST /sandbox/users/{id}/block|unblock     -> {"blocked"}
GET  /sandbox/chats/{id}/messages          ?include_deleted=1 -> [message]
GET  /sandbox/callbacks/{query_id}         -> callback query and its answer
GET  /sandbox/calls                        ?method=sendMessage -> [call]
GET  /sandbox/deliveries                   -> [webhook attempt]
POST /sandbox/flood                        {"per_chat": n|null, "global": n|null}
GET  /sandbox/files/{file_id}              -> the file's bytes
GET  /sandbox/idle                         ?timeout=5&quiet=0.2 -> 200 idle, 504 not
POST /sandbox/groups[/{id}/send|press]     groups and channels: see control_groups.py
"""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from shopbot.sandbox.telegram.state import SandboxError, UnknownReference

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator

Route = Callable[[web.Request], Awaitable[Any]]
MAX_BULK_USERS = 100_000
"""Users one POST /sandbox/users/bulk may create (a broadcast drill needs thousands)."""


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


async def read_json_object(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        data = await request.json()
    except ValueError as exc:
        raise SandboxError("body is not JSON") from exc
    if not isinstance(data, dict):
        raise SandboxError("body must be a JSON object")
    return data


def as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SandboxError(f"{name} must be an integer") from exc


def as_float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise SandboxError(f"{name} must be a number") from exc


def _rate(value: Any, name: str) -> int | None:
    return None if value is None else as_int(value, name)


def setup(app: web.Application, emu: "Emulator") -> None:
    def route(handler: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                result = await handler(request)
            except SandboxError as exc:
                return json_response({"error": str(exc)}, exc.status)
            return result if isinstance(result, web.Response) else json_response(result)

        return wrapped

    def bot_of(request: web.Request) -> str | None:
        return request.query.get("bot")

    def user_id(request: web.Request) -> int:
        return as_int(request.match_info["id"], "user id")

    async def state(request: web.Request) -> Any:
        return emu.snapshot()

    async def create_user(request: web.Request) -> Any:
        body = await read_json_object(request)
        user = emu.create_user(
            as_int(body.get("id"), "id"),
            body.get("first_name"),
            username=body.get("username"),
            last_name=body.get("last_name"),
            language_code=body.get("language_code", "en"),
            started=bool(body.get("started")),
            bot=bot_of(request),
        )
        return user.to_api()

    async def create_users(request: web.Request) -> Any:
        """Many users at once (a broadcast's audience): ids first_id .. first_id+count-1,
        named User<id>; `started` opens each private chat as in create_user."""
        body = await read_json_object(request)
        first, count = as_int(body.get("first_id"), "first_id"), as_int(body.get("count"), "count")
        if not 1 <= count <= MAX_BULK_USERS:
            raise SandboxError(f"count must be 1..{MAX_BULK_USERS}")
        if first < 1:
            raise SandboxError("first_id must be a positive user id")
        for user_id in range(first, first + count):
            emu.create_user(
                user_id,
                language_code=body.get("language_code", "en"),
                started=bool(body.get("started")),
                bot=bot_of(request),
            )
        return {"created": count, "first_id": first, "last_id": first + count - 1}

    async def send(request: web.Request) -> Any:
        body = await read_json_object(request)
        reply_to = body.get("reply_to")
        message = emu.send_text(
            user_id(request),
            str(body.get("text", "")),
            reply_to=None if reply_to is None else as_int(reply_to, "reply_to"),
            bot=bot_of(request),
        )
        return message.to_dict()

    async def press(request: web.Request) -> Any:
        body = await read_json_object(request)
        query_id = emu.press(
            user_id(request),
            as_int(body.get("message_id"), "message_id"),
            str(body.get("callback_data", "")),
            bot=bot_of(request),
        )
        return {"callback_query_id": query_id}

    async def document(request: web.Request) -> Any:
        body = await read_json_object(request)
        if "content_base64" in body:
            try:
                content = base64.b64decode(str(body["content_base64"]), validate=True)
            except binascii.Error as exc:
                raise SandboxError("content_base64 is not base64") from exc
        else:
            content = str(body.get("content", "")).encode("utf-8")
        message = emu.send_document(
            user_id(request),
            str(body.get("filename") or "file.txt"),
            content,
            body.get("mime_type"),
            caption=body.get("caption"),
            bot=bot_of(request),
        )
        return message.to_dict()

    async def location(request: web.Request) -> Any:
        body = await read_json_object(request)
        reply_to = body.get("reply_to")
        message = emu.send_location(
            user_id(request),
            as_float(body.get("latitude"), "latitude"),
            as_float(body.get("longitude"), "longitude"),
            reply_to=None if reply_to is None else as_int(reply_to, "reply_to"),
            bot=bot_of(request),
        )
        return message.to_dict()

    async def pay(request: web.Request) -> Any:
        body = await read_json_object(request)
        timeout = body.get("timeout")
        outcome = await emu.pay(
            user_id(request),
            as_int(body.get("message_id"), "message_id"),
            timeout=None if timeout is None else float(timeout),
            bot=bot_of(request),
        )
        return outcome.to_dict()

    async def block(request: web.Request) -> Any:
        emu.block(user_id(request), bot=bot_of(request))
        return {"blocked": True}

    async def unblock(request: web.Request) -> Any:
        emu.unblock(user_id(request), bot=bot_of(request))
        return {"blocked": False}

    async def messages(request: web.Request) -> Any:
        deleted = request.query.get("include_deleted", "") in ("1", "true")
        found = emu.messages(user_id(request), bot=bot_of(request), include_deleted=deleted)
        return [m.to_dict() for m in found]

    async def callback(request: web.Request) -> Any:
        return emu.callback_answer(request.match_info["id"], bot=bot_of(request)).to_dict()

    async def calls(request: web.Request) -> Any:
        found = emu.calls(request.query.get("method"), bot=bot_of(request))
        return [c.to_dict() for c in found]

    async def deliveries(request: web.Request) -> Any:
        return emu.deliveries(bot=bot_of(request))

    async def flood(request: web.Request) -> Any:
        body = await read_json_object(request)
        emu.set_flood(
            per_chat=_rate(body.get("per_chat"), "per_chat"),
            global_rate=_rate(body.get("global"), "global"),
        )
        return {"per_chat": emu.per_chat_rate, "global": emu.global_rate}

    async def file(request: web.Request) -> Any:
        stored = emu.files.get(request.match_info["id"])
        if stored is None:
            raise UnknownReference(f"no file {request.match_info['id']}")
        return web.Response(body=stored.content, content_type=stored.mime_type)

    async def idle(request: web.Request) -> Any:
        timeout = float(request.query.get("timeout", "5"))
        quiet = request.query.get("quiet")
        try:
            await emu.wait_idle(
                timeout, quiet=None if quiet is None else float(quiet), bot=bot_of(request)
            )
        except TimeoutError as exc:
            return json_response({"idle": False, "error": str(exc)}, 504)
        return {"idle": True}

    router = app.router
    router.add_get("/sandbox/state", route(state))
    router.add_post("/sandbox/users", route(create_user))
    router.add_post("/sandbox/users/bulk", route(create_users))
    for name, handler in (
        ("send", send),
        ("press", press),
        ("document", document),
        ("location", location),
        ("pay", pay),
        ("block", block),
        ("unblock", unblock),
    ):
        router.add_post(f"/sandbox/users/{{id}}/{name}", route(handler))
    router.add_get("/sandbox/chats/{id}/messages", route(messages))
    router.add_get("/sandbox/callbacks/{id}", route(callback))
    router.add_get("/sandbox/calls", route(calls))
    router.add_get("/sandbox/deliveries", route(deliveries))
    router.add_post("/sandbox/flood", route(flood))
    router.add_get("/sandbox/files/{id}", route(file))
    router.add_get("/sandbox/idle", route(idle))
    from shopbot.sandbox.telegram import control_groups  # it imports this module's helpers

    control_groups.setup(app, emu, route)
