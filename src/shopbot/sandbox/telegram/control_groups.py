"""The control API's group routes (see control.py for the rest):

POST /sandbox/groups                  {"id", "title", "type", "members", "added_by",
                                       "bot_is_admin"} -> chat
POST /sandbox/groups/{id}/send        {"user_id", "text", "reply_to", "as_chat"} -> message
POST /sandbox/groups/{id}/press       {"user_id", "message_id", "callback_data"}
                                       -> {"callback_query_id"}
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from shopbot.sandbox.telegram.control import as_int, read_json_object
from shopbot.sandbox.telegram.state import SandboxError

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator

Wrap = Callable[
    [Callable[[web.Request], Awaitable[Any]]], Callable[[web.Request], Awaitable[web.Response]]
]


def _optional_int(value: Any, name: str) -> int | None:
    return None if value is None else as_int(value, name)


def setup(app: web.Application, emu: "Emulator", route: Wrap) -> None:
    def bot_of(request: web.Request) -> str | None:
        return request.query.get("bot")

    def chat_id(request: web.Request) -> int:
        return as_int(request.match_info["id"], "chat id")

    async def create(request: web.Request) -> Any:
        body = await read_json_object(request)
        members = body.get("members", [])
        if not isinstance(members, list):
            raise SandboxError("members must be a list of user ids")
        chat = emu.create_group(
            as_int(body.get("id"), "id"),
            str(body.get("title", "")),
            members=[as_int(m, "member") for m in members],
            type=str(body.get("type", "supergroup")),
            added_by=_optional_int(body.get("added_by"), "added_by"),
            bot_is_admin=bool(body.get("bot_is_admin")),
            bot=bot_of(request),
        )
        return emu.chat_json(chat.id) | {"members": sorted(chat.members)}

    async def send(request: web.Request) -> Any:
        body = await read_json_object(request)
        message = emu.send_group_text(
            chat_id(request),
            _optional_int(body.get("user_id"), "user_id"),
            str(body.get("text", "")),
            reply_to=_optional_int(body.get("reply_to"), "reply_to"),
            as_chat=_optional_int(body.get("as_chat"), "as_chat"),
            bot=bot_of(request),
        )
        return message.to_dict()

    async def press(request: web.Request) -> Any:
        body = await read_json_object(request)
        query_id = emu.press_in_group(
            chat_id(request),
            as_int(body.get("user_id"), "user_id"),
            as_int(body.get("message_id"), "message_id"),
            str(body.get("callback_data", "")),
            bot=bot_of(request),
        )
        return {"callback_query_id": query_id}

    app.router.add_post("/sandbox/groups", route(create))
    app.router.add_post("/sandbox/groups/{id}/send", route(send))
    app.router.add_post("/sandbox/groups/{id}/press", route(press))
