"""Simulated users: what a person can do in a private chat with the bot. The Python API
(`emulator.send_text(...)`) and the control API (`POST /sandbox/users/{id}/send`) both
land here."""

import asyncio
import secrets
import time
from typing import Any

from shopbot.sandbox.telegram.core import Core
from shopbot.sandbox.telegram.formatting import detect, strip, utf16_len
from shopbot.sandbox.telegram.markup import find_button
from shopbot.sandbox.telegram.state import (
    BotState,
    CallbackQuery,
    Chat,
    Conflict,
    Message,
    Payment,
    PaymentOutcome,
    PreCheckout,
    SandboxError,
    UnknownReference,
    User,
)


def _query_id() -> str:
    return str(secrets.randbits(63))


class UserActions(Core):
    def _active_chat(self, user_id: int, bot: str | int | None) -> tuple[BotState, User, Chat]:
        state = self.bot(bot)
        user = self.users.get(user_id) or self.create_user(user_id)
        chat = self.open_chat(state, user)
        if chat.blocked:
            raise Conflict(f"user {user_id} has blocked the bot; unblock first")
        return state, user, chat

    def _from_user(self, state: BotState, chat: Chat, **fields: Any) -> Message:
        message = self.add_message(state, chat, "user", **fields)
        self.enqueue(state, "message", self.message_json(state, message))
        return message

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        bot: str | int | None = None,
    ) -> Message:
        """The user sends `text` ("/start payload" deep links included; commands, URLs,
        mentions and hashtags get their entities). Creates the user if unknown."""
        text, _ = strip(text, [])
        if not text:
            raise SandboxError("a message needs some text")
        if utf16_len(text) > 4096:  # Telegram's clients count UTF-16 code units
            raise SandboxError("a message is at most 4096 UTF-16 code units")
        state, _, chat = self._active_chat(user_id, bot)
        if reply_to is not None and chat.find(reply_to) is None:
            raise UnknownReference(f"no message {reply_to} in chat {user_id}")
        keyboard = chat.reply_keyboard or {}
        if keyboard.get("one_time_keyboard") and any(
            button.get("text") == text for row in keyboard["keyboard"] for button in row
        ):
            chat.reply_keyboard = None
        return self._from_user(
            state, chat, text=text, entities=detect(text, []), reply_to_message_id=reply_to
        )

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, bot: str | int | None = None
    ) -> str:
        """The user presses the inline button with `callback_data` on the bot's message;
        returns the callback query id (see `callback_answer`)."""
        state, user, chat = self._active_chat(user_id, bot)
        message = chat.find(message_id)
        if message is None or message.sender != "bot":
            raise UnknownReference(f"no bot message {message_id} in chat {user_id}")
        if find_button(message.reply_markup, callback_data) is None:
            raise SandboxError(f"message {message_id} has no button with data {callback_data!r}")
        query = CallbackQuery(_query_id(), user_id, chat.id, message_id, callback_data)
        state.callback_queries[query.id] = query
        payload = {
            "id": query.id,
            "from": user.to_api(),
            "message": self.message_json(state, message),
            "chat_instance": chat.chat_instance,
            "data": callback_data,
        }
        self.enqueue(state, "callback_query", payload)
        return query.id

    def callback_answer(self, query_id: str, *, bot: str | int | None = None) -> CallbackQuery:
        """The callback query; `.answered`, `.text`, `.show_alert`, `.url` once answered."""
        query = self.bot(bot).callback_queries.get(query_id)
        if query is None:
            raise UnknownReference(f"no callback query {query_id}")
        return query

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        bot: str | int | None = None,
    ) -> CallbackQuery:
        query = self.callback_answer(query_id, bot=bot)
        await self.wait_for(lambda: query.answered, timeout)
        return query

    def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        bot: str | int | None = None,
    ) -> Message:
        """The user sends a file; the bot can getFile and download it."""
        if not content:
            raise SandboxError("a document cannot be empty")
        if caption and utf16_len(caption.strip()) > 1024:
            raise SandboxError("a caption is at most 1024 UTF-16 code units")
        state, _, chat = self._active_chat(user_id, bot)
        stored = self.store_file(content, filename, mime_type, "documents")
        document = {
            "file_name": filename,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(content),
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            text, _ = strip(caption, [])
            fields.update(caption=text, caption_entities=detect(text, []))
        return self._from_user(state, chat, **fields)

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        reply_to: int | None = None,
        bot: str | int | None = None,
    ) -> Message:
        """The user shares a point on the map (no caption: Telegram's locations have none)."""
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise SandboxError("latitude must be in [-90, 90] and longitude in [-180, 180]")
        state, _, chat = self._active_chat(user_id, bot)
        if reply_to is not None and chat.find(reply_to) is None:
            raise UnknownReference(f"no message {reply_to} in chat {user_id}")
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        return self._from_user(state, chat, location=location, reply_to_message_id=reply_to)

    async def pay(
        self,
        user_id: int,
        message_id: int,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - when the user gives up
        bot: str | int | None = None,
    ) -> PaymentOutcome:
        """The user pays the invoice message: a pre_checkout_query goes to the bot, which
        must answer within `config.pre_checkout_timeout` (10 s); if it says ok, a
        `successful_payment` message follows (unique telegram_payment_charge_id)."""
        state, user, chat = self._active_chat(user_id, bot)
        invoice = chat.find(message_id)
        if invoice is None or invoice.sender != "bot" or invoice.invoice is None:
            raise UnknownReference(f"no invoice message {message_id} in chat {user_id}")
        if invoice.extra.get("paid_charge_id"):
            raise Conflict(f"invoice message {message_id} is already paid")
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        query = PreCheckout(
            _query_id(),
            user_id,
            message_id,
            invoice.invoice["currency"],
            invoice.invoice["total_amount"],
            invoice.extra["payload"],
            answer,
        )
        state.pre_checkouts[query.id] = query
        payload = {
            "id": query.id,
            "from": user.to_api(),
            "currency": query.currency,
            "total_amount": query.total_amount,
            "invoice_payload": query.payload,
        }
        self.enqueue(state, "pre_checkout_query", payload)
        wait = self.config.pre_checkout_timeout if timeout is None else timeout
        try:
            ok, error = await asyncio.wait_for(asyncio.shield(answer), wait)
        except TimeoutError:
            return PaymentOutcome("timeout", query.id)
        finally:
            state.pre_checkouts.pop(query.id, None)
        if not ok:
            return PaymentOutcome("declined", query.id, error_message=error)
        return self._paid(state, user, chat, invoice, query)

    def _paid(
        self, state: BotState, user: User, chat: Chat, invoice: Message, query: PreCheckout
    ) -> PaymentOutcome:
        charge_id = f"stx{secrets.token_urlsafe(36)}"
        provider_charge_id = f"{user.id}_{len(state.payments) + 1}"
        successful = {
            "currency": query.currency,
            "total_amount": query.total_amount,
            "invoice_payload": query.payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id,
        }
        message = self._from_user(state, chat, successful_payment=successful)
        invoice.extra["paid_charge_id"] = charge_id
        state.payments[charge_id] = Payment(
            charge_id,
            provider_charge_id,
            user.id,
            chat.id,
            message.message_id,
            invoice.message_id,
            query.currency,
            query.total_amount,
            query.payload,
            message.date,
        )
        if query.currency == "XTR":
            partner = {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": user.to_api(),
                "invoice_payload": query.payload,
            }
            state.transactions.append(
                {"id": charge_id, "amount": query.total_amount, "date": message.date}
                | {"source": partner}
            )
        return PaymentOutcome("paid", query.id, charge_id=charge_id, message=message)

    def _member_update(self, state: BotState, user: User, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": state.to_api()}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "chat": self.chat_json(user.id),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def block(self, user_id: int, *, bot: str | int | None = None) -> None:
        """The user blocks the bot: a my_chat_member update (member -> kicked); every send
        to the chat then fails with 403 "Forbidden: bot was blocked by the user"."""
        self._set_blocked(user_id, True, bot)

    def unblock(self, user_id: int, *, bot: str | int | None = None) -> None:
        self._set_blocked(user_id, False, bot)

    def _set_blocked(self, user_id: int, blocked: bool, bot: str | int | None) -> None:
        state, user = self.bot(bot), self.user(user_id)
        chat = state.chats.get(user_id)
        if chat is None:
            raise UnknownReference(f"user {user_id} never opened a chat with the bot")
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self.enqueue(state, "my_chat_member", self._member_update(state, user, old, new))
