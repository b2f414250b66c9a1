"""The emulator's state keeping shared by the Bot API methods and the simulated users:
bots, users, chats, messages, the update queues, files, flood control, transcripts and
the waiting helpers."""

import math
import mimetypes
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from shopbot.sandbox.telegram.config import EmulatorConfig
from shopbot.sandbox.telegram.state import (
    BotState,
    Call,
    Chat,
    Message,
    Signal,
    StoredFile,
    UnknownReference,
    Update,
    User,
    too_many_requests,
)

T = TypeVar("T")
CONTENT_FIELDS = (
    "document",
    "photo",
    "location",
    "invoice",
    "successful_payment",
    "refunded_payment",
)


class Core:
    def __init__(self, config: EmulatorConfig) -> None:
        if not config.bots:
            raise ValueError("the emulator needs at least one bot token")
        self.config = config
        self.bots = {
            token: BotState(token, bot_id, username, first_name)
            for token, (bot_id, username, first_name) in config.bots.items()
        }
        self.users: dict[int, User] = {}
        self.files: dict[str, StoredFile] = {}
        self.per_chat_rate = config.per_chat_rate
        self.global_rate = config.global_rate
        self.groups: dict[int, dict[str, Any]] = {}  # id -> API Chat (group, channel)
        self.changed = Signal()  # any state change; wakes wait_for / wait_idle
        self._seq = 0

    # --- lookups -------------------------------------------------------------------------

    def bot(self, ref: str | int | None = None) -> BotState:
        """The bot by token, username or id; the first configured bot by default."""
        if ref is None:
            return next(iter(self.bots.values()))
        for bot in self.bots.values():
            if ref in (bot.token, bot.username, bot.id, str(bot.id), f"@{bot.username}"):
                return bot
        raise UnknownReference(f"no bot {ref!r}")

    def create_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
        bot: str | int | None = None,
    ) -> User:
        """Creates (or returns, updating given fields) a user; `started=True` also opens the
        private chat with the bot, as if the user had pressed Start without a message."""
        user = self.users.get(user_id)
        if user is None:
            user = User(user_id, first_name or f"User{user_id}")
            user.language_code = language_code
            self.users[user_id] = user
        elif first_name:
            user.first_name = first_name
        if username is not None:
            user.username = username
        if last_name is not None:
            user.last_name = last_name
        if started:
            self.open_chat(self.bot(bot), user)
        self.changed.fire()
        return user

    def user(self, user_id: int) -> User:
        if user_id not in self.users:
            raise UnknownReference(f"no user {user_id}")
        return self.users[user_id]

    def open_chat(self, bot: BotState, user: User) -> Chat:
        chat = bot.chats.get(user.id)
        if chat is None:
            chat = Chat(user.id, chat_instance=str(secrets.randbits(63)))
            bot.chats[user.id] = chat
        return chat

    def chat(self, chat_id: int, *, bot: str | int | None = None) -> Chat:
        chat = self.bot(bot).chats.get(chat_id)
        if chat is None:
            raise UnknownReference(f"no chat {chat_id}")
        return chat

    # --- JSON of API objects -------------------------------------------------------------

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.groups:
            return dict(self.groups[chat_id])
        user = self.users[chat_id].to_api()
        data = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                data[key] = user[key]
        return data

    def message_json(self, bot: BotState, message: Message, nested: bool = True) -> dict[str, Any]:
        if message.sender == "bot":
            sender: dict[str, Any] | None = bot.to_api()
        else:
            sender = message.from_user
            if sender is None and message.chat_id not in self.groups:
                sender = self.users[message.chat_id].to_api()
        data: dict[str, Any] = {"message_id": message.message_id}
        if sender:  # channel posts have no `from`
            data["from"] = sender
        if message.sender_chat is not None:
            data["sender_chat"] = message.sender_chat
        data |= {"chat": self.chat_json(message.chat_id), "date": message.date}
        if message.edit_date:
            data["edit_date"] = message.edit_date
        chat = bot.chats[message.chat_id]
        if nested and message.reply_to_message_id is not None:
            replied = chat.find(message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self.message_json(bot, replied, nested=False)
        for key in ("text", "caption"):
            if getattr(message, key) is not None:
                data[key] = getattr(message, key)
        if message.entities:
            data["entities"] = message.entities
        if message.caption_entities:
            data["caption_entities"] = message.caption_entities
        for key in CONTENT_FIELDS:
            if getattr(message, key) is not None:
                data[key] = getattr(message, key)
        if message.media_group_id is not None:
            data["media_group_id"] = message.media_group_id
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        return data

    # --- state changes -------------------------------------------------------------------

    def add_message(self, bot: BotState, chat: Chat, sender: str, **fields: Any) -> Message:
        message = Message(chat.next_message_id, chat.id, sender, int(time.time()), **fields)
        chat.next_message_id += 1
        chat.messages.append(message)
        self.changed.fire()
        return message

    def enqueue(self, bot: BotState, kind: str, payload: dict[str, Any]) -> Update | None:
        """Queues an update (None if its type is not in the bot's allowed_updates)."""
        if kind not in bot.allowed_updates:
            bot.dropped_updates.append({"type": kind, kind: payload, "reason": "not allowed"})
            return None
        update = Update(bot.next_update_id, kind, payload)
        bot.next_update_id += 1
        bot.updates.append(update)
        bot.updates_signal.fire()
        self.changed.fire()
        return update

    def store_file(
        self, content: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        index = len(self.files) + 1
        unique = secrets.token_urlsafe(9)
        guessed = mimetypes.guess_type(file_name or "")[0]
        mime = mime_type or guessed or "application/octet-stream"
        extension = mimetypes.guess_extension(mime) or ""
        suffix = file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
        if suffix.isascii() and suffix.isalnum() and len(suffix) <= 10:
            extension = f".{suffix}"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{index:04d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{unique}",
            file_path=f"{folder}/file_{index}{extension}",
            content=content,
            mime_type=mime,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    def set_flood(self, *, per_chat: int | None, global_rate: int | None) -> None:
        """Flood limits in messages per second (None disables a limit)."""
        self.per_chat_rate, self.global_rate = per_chat, global_rate

    def check_flood(self, bot: BotState, chat: Chat) -> None:
        """Counts a send, or raises 429 (the send is then not counted and not delivered)."""
        now = time.monotonic()
        for window, limit in ((chat.sends, self.per_chat_rate), (bot.sends, self.global_rate)):
            while window and window[0] <= now - 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                raise too_many_requests(max(1, math.ceil(window[0] + 1.0 - now)))
        chat.sends.append(now)
        bot.sends.append(now)

    def record(self, bot: BotState, call: Call) -> None:
        self._seq += 1
        call.seq = self._seq
        bot.calls.append(call)
        self.changed.fire()

    # --- transcripts ---------------------------------------------------------------------

    def messages(
        self, chat_id: int, *, bot: str | int | None = None, include_deleted: bool = False
    ) -> list[Message]:
        """The chat's bot and user messages in order, each in its current (edited) form."""
        chat = self.bot(bot).chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.messages if include_deleted or not m.deleted]

    def last_bot_message(self, chat_id: int, *, bot: str | int | None = None) -> Message | None:
        found = [m for m in self.messages(chat_id, bot=bot) if m.sender == "bot"]
        return found[-1] if found else None

    def calls(self, method: str | None = None, *, bot: str | int | None = None) -> list[Call]:
        """Recorded Bot API calls (all, or of one method, case-insensitive), in order."""
        found = self.bot(bot).calls
        return [c for c in found if method is None or c.method.lower() == method.lower()]

    def deliveries(self, *, bot: str | int | None = None) -> list[dict[str, Any]]:
        """Every webhook attempt: update_id, attempt, status, error, ok."""
        return list(self.bot(bot).deliveries)

    # --- waiting -------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for a condition, not an I/O call
    ) -> T:
        """Waits until `predicate()` is truthy and returns its value; TimeoutError if not."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.changed.wait(min(remaining, 0.05))

    def is_idle(self, bot: BotState, quiet: float | None = None) -> bool:
        if quiet is None:
            quiet = 0.0 if bot.webhook else self.config.quiet_period
        if bot.inflight or time.monotonic() - bot.last_activity < quiet:
            return False
        if bot.webhook:
            return not bot.updates and not bot.delivering
        return all(update.fetched for update in bot.updates)

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        quiet: float | None = None,
        bot: str | int | None = None,
    ) -> None:
        """Waits until the bot has handled everything (TimeoutError otherwise).

        Webhook mode: no update is queued and no delivery is in flight (with aiogram's
        `handle_in_background=False` the answer comes after the handlers ran). Polling
        mode: every queued update was fetched by getUpdates AND the bot made no API call
        for `quiet` seconds (default `config.quiet_period`) and none is in progress. In both
        modes no API call may be in progress; pass `quiet=` for bots that answer webhooks
        early or work long between API calls.
        """
        state = self.bot(bot)
        try:
            await self.wait_for(lambda: self.is_idle(state, quiet), timeout)
        except TimeoutError:
            pending = [u.to_api() for u in state.updates if state.webhook or not u.fetched]
            raise TimeoutError(
                f"bot @{state.username} not idle after {timeout} s ({state.mode} mode, "
                f"{state.inflight} calls in progress, pending updates: {pending})"
            ) from None
