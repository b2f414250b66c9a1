"""Simulated groups, supergroups and channels: the bot is added to one, members write
commands and press the bot's buttons there, anonymous admins and channels post.

What a bot receives follows Telegram's privacy mode (on by default, `getMe` says
`can_read_all_group_messages: false`; https://core.telegram.org/bots/features#privacy-mode):
commands (a `/command@other_bot` is for the other bot), replies to the bot's messages and,
when the bot is an admin of the chat, every message. The rest is kept in the chat's log
but not delivered.
"""

import secrets
import time
from typing import Any

from shopbot.sandbox.telegram.core import Core
from shopbot.sandbox.telegram.formatting import detect, strip
from shopbot.sandbox.telegram.markup import find_button
from shopbot.sandbox.telegram.state import (
    BotState,
    CallbackQuery,
    Chat,
    Conflict,
    Message,
    SandboxError,
    UnknownReference,
)

GROUP_TYPES = ("group", "supergroup", "channel")
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}  # `from` of a message an anonymous admin sends on behalf of the group
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
# `from` of a message a user sends on behalf of a channel


def _admin_rights() -> dict[str, bool]:
    rights = (
        "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
        "can_change_info can_invite_users can_post_stories can_edit_stories "
        "can_delete_stories can_send_welcome_messages can_post_messages can_edit_messages"
    )
    return {name: True for name in rights.split()} | {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": False,
    }


class GroupActions(Core):
    def create_group(
        self,
        chat_id: int,
        title: str,
        *,
        members: list[int] | tuple[int, ...] = (),
        type: str = "supergroup",
        added_by: int | None = None,
        bot_is_admin: bool = False,
        bot: str | int | None = None,
    ) -> Chat:
        """Adds the bot to a new group, supergroup or channel `chat_id` with these member
        users (created if unknown); the bot gets a my_chat_member update (left -> member,
        or administrator) from `added_by` (default: the first member). Ids are negative;
        supergroups and channels are -100… as in Telegram."""
        if type not in GROUP_TYPES:
            raise SandboxError(f"type must be one of {', '.join(GROUP_TYPES)}")
        if chat_id >= 0 or (type != "group") != str(chat_id).startswith("-100"):
            raise SandboxError("group ids are negative; supergroups and channels are -100…")
        if not title.strip() or len(title) > 128:
            raise SandboxError("a title is 1-128 characters")
        state = self.bot(bot)
        if chat_id in state.chats:
            raise Conflict(f"the bot is already in chat {chat_id}")
        for user_id in members:
            if user_id not in self.users:
                self.create_user(user_id)
        adder = added_by if added_by is not None else (members[0] if members else None)
        if adder is not None and adder not in members:
            raise SandboxError("added_by must be a member")
        self.groups[chat_id] = {"id": chat_id, "type": type, "title": title}
        chat = Chat(chat_id, chat_instance=str(secrets.randbits(63)), type=type, title=title)
        chat.members, chat.bot_is_admin = set(members), bot_is_admin or type == "channel"
        state.chats[chat_id] = chat
        status = "administrator" if chat.bot_is_admin else "member"
        new: dict[str, Any] = {"status": status, "user": state.to_api()}
        if status == "administrator":
            new |= _admin_rights()
        update: dict[str, Any] = {"chat": self.chat_json(chat_id), "date": int(time.time())}
        if adder is not None:
            update["from"] = self.user(adder).to_api()
        update |= {
            "old_chat_member": {"status": "left", "user": state.to_api()},
            "new_chat_member": new,
        }
        self.enqueue(state, "my_chat_member", update)
        return chat

    def group(self, chat_id: int, *, bot: str | int | None = None) -> Chat:
        chat = self.bot(bot).chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise UnknownReference(f"the bot is in no group {chat_id}")
        return chat

    def send_group_text(
        self,
        chat_id: int,
        user_id: int | None,
        text: str,
        *,
        reply_to: int | None = None,
        as_chat: int | None = None,
        bot: str | int | None = None,
    ) -> Message:
        """Member `user_id` writes `text` into the group (delivered to the bot only as
        privacy mode allows; see the module doc). `as_chat`: sent on behalf of a chat
        instead (the group itself: an anonymous admin; a channel id: a channel), with
        `sender_chat` and Telegram's placeholder `from`. In a channel (`user_id` None)
        it is a channel post (`channel_post` update, no `from`)."""
        state, chat = self.bot(bot), self.group(chat_id, bot=bot)
        text, _ = strip(text, [])
        if not text or len(text) > 4096:
            raise SandboxError("a message is 1-4096 characters")
        if reply_to is not None and chat.find(reply_to) is None:
            raise UnknownReference(f"no message {reply_to} in chat {chat_id}")
        fields: dict[str, Any] = {"text": text, "entities": detect(text, [])}
        if chat.type == "channel":
            fields["sender_chat"] = self.chat_json(chat_id)
        elif as_chat is not None:
            sender = self.groups.get(as_chat)
            if sender is None or sender["type"] not in ("channel", "supergroup", "group"):
                raise UnknownReference(f"no group or channel {as_chat}")
            fields["sender_chat"] = dict(sender)
            fields["from_user"] = GROUP_ANONYMOUS_BOT if as_chat == chat_id else CHANNEL_BOT
        else:
            if user_id is None or user_id not in chat.members:
                raise SandboxError(f"user {user_id} is not a member of chat {chat_id}")
            fields["from_user"] = self.user(user_id).to_api()
        message = self.add_message(state, chat, "user", reply_to_message_id=reply_to, **fields)
        if self._delivered(state, chat, message):
            kind = "channel_post" if chat.type == "channel" else "message"
            self.enqueue(state, kind, self.message_json(state, message))
        return message

    def _delivered(self, state: BotState, chat: Chat, message: Message) -> bool:
        """Privacy mode: what a bot that is not an admin gets from a group."""
        if chat.bot_is_admin:
            return True
        replied = chat.find(message.reply_to_message_id or 0)
        if replied is not None and replied.sender == "bot":
            return True
        text = message.text or ""
        if not text.startswith("/"):
            return False
        _, _, addressee = text.split(maxsplit=1)[0].partition("@")
        return not addressee or addressee.lower() == state.username.lower()

    def press_in_group(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        bot: str | int | None = None,
    ) -> str:
        """Member `user_id` presses an inline button of the bot's message in the group:
        a callback_query whose `message.chat` is the group. Returns the query id."""
        state, chat = self.bot(bot), self.group(chat_id, bot=bot)
        if user_id not in chat.members:
            raise SandboxError(f"user {user_id} is not a member of chat {chat_id}")
        message = chat.find(message_id)
        if message is None or message.sender != "bot":
            raise UnknownReference(f"no bot message {message_id} in chat {chat_id}")
        if find_button(message.reply_markup, callback_data) is None:
            raise SandboxError(f"message {message_id} has no button with data {callback_data!r}")
        query_id = str(secrets.randbits(63))
        query = CallbackQuery(query_id, user_id, chat_id, message_id, callback_data)
        state.callback_queries[query.id] = query
        payload = {
            "id": query.id,
            "from": self.user(user_id).to_api(),
            "message": self.message_json(state, message),
            "chat_instance": chat.chat_instance,
            "data": callback_data,
        }
        self.enqueue(state, "callback_query", payload)
        return query.id
