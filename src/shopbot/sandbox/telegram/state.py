"""The emulator's data: users, per-bot chats and message logs, update queues, files,
callback and pre-checkout queries, Star payments and the record of API calls."""

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_UPDATES = words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost"
)  # Telegram's default: every type but chat_member, message_reaction(_count)
ALL_UPDATES = DEFAULT_UPDATES | {"chat_member", "message_reaction", "message_reaction_count"}


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code}
        body["description"] = self.description
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


class SandboxError(Exception):
    """A simulated user action that cannot happen (control API: 400, 404 or 409)."""

    status = 400


class UnknownReference(SandboxError):
    """A user, bot, chat, message, callback query or file that the emulator has no record
    of (control API: 404); the domain's NotFound is another thing."""

    status = 404


class Conflict(SandboxError):
    status = 409


class Signal:
    """Wakes every current waiter; firing never blocks (callable from sync code)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float | None) -> bool:  # noqa: ASYNC109
        """True if fired before `timeout` seconds passed."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class Message:
    """One message of a chat as the emulator keeps it (current version plus edit history).

    `text`/`entities` are what Telegram stores (HTML already parsed); `source` and
    `parse_mode` are what the bot sent. `reply_markup` is the inline keyboard (the only
    markup a Message carries in the API); `keyboard` a reply keyboard/remove/force_reply
    that came with it.
    """

    message_id: int
    chat_id: int
    sender: str  # "bot" or "user"
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    keyboard: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    location: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None
    successful_payment: dict[str, Any] | None = None
    refunded_payment: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None  # the album the message belongs to
    from_user: dict[str, Any] | None = None
    """`from` of a user's message in a group or channel (None: the private chat's user)."""
    sender_chat: dict[str, Any] | None = None
    """The chat a message was sent on behalf of (anonymous admin, channel)."""
    edit_date: int | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # invoice payload, paid charge, ...

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows (empty if none)."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    def callback_data(self) -> list[str]:
        """Every callback_data of the inline keyboard, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "extra"}
        data["invoice_payload"] = self.extra.get("payload")
        data["paid_charge_id"] = self.extra.get("paid_charge_id")
        return data


@dataclass
class Chat:
    """A chat of one bot: private (chat id = user id), or a group, supergroup or channel
    (negative id, `title`, `members`: the user ids in it)."""

    id: int
    messages: list[Message] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    chat_instance: str = ""
    reply_keyboard: dict[str, Any] | None = None  # the keyboard the user currently sees
    actions: list[tuple[float, str]] = field(default_factory=list)  # sendChatAction
    sends: deque[float] = field(default_factory=deque)  # flood window
    type: str = "private"
    title: str | None = None
    members: set[int] = field(default_factory=set)
    bot_is_admin: bool = False  # an admin bot gets every message (no privacy mode)

    def find(self, message_id: int) -> Message | None:
        for message in self.messages:
            if message.message_id == message_id and not message.deleted:
                return message
        return None


@dataclass
class Update:
    update_id: int
    type: str
    payload: dict[str, Any]
    fetched: bool = False  # returned by a getUpdates (polling mode)
    attempts: int = 0  # webhook attempts so far

    def to_api(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.type: self.payload}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    mime_type: str
    file_name: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    answered_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PreCheckout:
    id: str
    user_id: int
    message_id: int
    currency: str
    total_amount: int
    payload: str
    answer: "asyncio.Future[tuple[bool, str | None]]"


@dataclass
class Payment:
    charge_id: str
    provider_charge_id: str
    user_id: int
    chat_id: int
    message_id: int  # the successful_payment message
    invoice_message_id: int
    currency: str
    total_amount: int
    payload: str
    date: int
    refunded: bool = False
    refund_date: int | None = None


@dataclass
class PaymentOutcome:
    """What `pay` ended with: status "paid", "declined" (ok=False) or "timeout"."""

    status: str
    pre_checkout_query_id: str
    error_message: str | None = None
    charge_id: str | None = None
    message: Message | None = None

    @property
    def paid(self) -> bool:
        return self.status == "paid"

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "message"}
        data["message"] = None if self.message is None else self.message.to_dict()
        return data


@dataclass
class Call:
    """One Bot API request as the emulator answered it."""

    seq: int
    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    via: str = "http"  # or "webhook_reply": a method returned in a webhook answer
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotState:
    token: str
    id: int
    username: str
    first_name: str
    chats: dict[int, Chat] = field(default_factory=dict)
    updates: deque[Update] = field(default_factory=deque)
    next_update_id: int = 1
    allowed_updates: frozenset[str] = DEFAULT_UPDATES
    dropped_updates: list[dict[str, Any]] = field(default_factory=list)  # not allowed
    webhook: Webhook | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # webhook attempts
    delivering: bool = False
    poll_generation: int = 0  # a new getUpdates terminates the previous long poll
    pollers: int = 0  # getUpdates requests waiting right now
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    pre_checkouts: dict[str, PreCheckout] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    sends: deque[float] = field(default_factory=deque)  # global flood window
    inflight: int = 0  # API calls being handled (getUpdates excluded)
    last_activity: float = field(default_factory=time.monotonic)
    updates_signal: Signal = field(default_factory=Signal)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook else "polling"
