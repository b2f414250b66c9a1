"""The Bot API method registry, request parameters as the Bot API server reads them
(form fields, JSON-serialized nested objects, multipart files, `attach://` references) and
the single entry point `execute` that answers and records every call."""

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shopbot.sandbox.telegram.state import (
    ApiError,
    BotState,
    Call,
    Chat,
    bad_request,
    forbidden,
)

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator


@dataclass
class Upload:
    filename: str
    content: bytes
    content_type: str | None


@dataclass
class Described:
    """A result answered with a `description` (setWebhook: "Webhook was set")."""

    result: Any
    description: str


def _alive() -> bool:
    return True


class Params:
    def __init__(
        self,
        fields: Mapping[str, str],
        files: Mapping[str, Upload] | None = None,
        alive: Callable[[], bool] = _alive,
    ) -> None:
        self.fields = dict(fields)
        self.files = dict(files or {})
        self.alive = alive  # False once the HTTP client went away (long polling)

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.fields)
        for name, upload in self.files.items():
            data[name] = {"filename": upload.filename, "size": len(upload.content)}
        return data

    def has(self, name: str) -> bool:
        return name in self.fields

    def value(self, name: str) -> str:
        return self.fields.get(name, "")

    def required(self, name: str) -> str:
        value = self.value(name)
        if not value:
            raise bad_request(f'parameter "{name}" is required')
        return value

    def integer(
        self, name: str, default: int = 0, low: int | None = None, high: int | None = None
    ) -> int:
        """td::to_integer: the leading integer, 0 if none; clamped like get_integer_arg."""
        raw = self.value(name).strip()
        match = re.match(r"[+-]?\d+", raw)
        value = default if not raw else int(match[0]) if match else 0
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value

    def flag(self, name: str) -> bool:
        return self.value(name).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str) -> Any:
        raw = self.value(name)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(error) from exc

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (the field itself or `attach://x`), or a file_id/URL string."""
        value = self.value(name)
        if value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        if value:
            return value
        return self.files.get(name)


logger = logging.getLogger(__name__)
Handler = Callable[["Emulator", BotState, Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def target_chat(emu: "Emulator", bot: BotState, params: Params, *, sending: bool = True) -> Chat:
    """The private chat named by chat_id (a user id or @username), like check_chat."""
    raw = params.value("chat_id").strip()
    if not raw:
        raise bad_request("chat_id is empty")
    chat_id: int | None = None
    if re.fullmatch(r"-?\d+", raw):
        chat_id = int(raw)
    elif raw.startswith("@"):
        chat_id = next((u.id for u in emu.users.values() if f"@{u.username}" == raw), None)
    chat = bot.chats.get(chat_id) if chat_id is not None else None
    if chat is None:
        if chat_id in emu.users and sending:
            raise forbidden("bot can't initiate conversation with a user")
        raise bad_request("chat not found")
    if sending and chat.blocked:
        raise forbidden("bot was blocked by the user")
    return chat


async def execute(
    emu: "Emulator", bot: BotState, name: str, params: Params, via: str = "http"
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one Bot API request; the call is recorded."""
    canonical, handler = METHODS.get(name.lower(), (name, None))
    polling = canonical == "getUpdates"
    if not polling:
        bot.inflight += 1
        bot.last_activity = time.monotonic()
    call = Call(0, canonical, params.record(), ok=False, via=via)
    try:
        if handler is None:
            raise ApiError(404, "Not Found")
        fault = emu.faults.take(canonical, params.value("chat_id"))
        if fault is not None:
            raise fault
        result = await handler(emu, bot, params)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Described):
            body.update(result=result.result, description=result.description)
        else:
            body["result"] = result
        call.ok, call.result = True, body["result"]
        status = 200
    except ApiError as error:
        body, status = error.body(), error.code
        call.error_code, call.description = error.code, error.description
    except Exception as exc:  # an emulator bug: answer like Telegram's 500s, keep the trace
        logger.exception("%s failed", canonical)
        body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc}"}
        status, call.error_code, call.description = 500, 500, body["description"]
    finally:
        if not polling:
            bot.inflight -= 1
        if not polling or call.result:
            bot.last_activity = time.monotonic()
    emu.record(bot, call)
    return status, body
