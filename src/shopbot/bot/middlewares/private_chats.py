"""Every screen of the bot (customer and admin) is someone's own data: it is shown only in
that person's private chat with the bot. This outer middleware on updates is the one
place that rule lives, so it holds for every router, including ones added later.

An update reaches the routers only when it is
- from a person (`from` present, not a bot) in their own private chat (chat id = user id,
  https://core.telegram.org/bots/api#chat), or
- a `pre_checkout_query` (it has no chat; the Stars router checks the payer against the
  invoice payload, and the bot sends invoices to private chats only), or
- a `successful_payment` / `refunded_payment` service message, wherever it was paid: the
  money is real and must be credited (the Stars router answers in the private chat), or
- in the support chat (SUPPORT_CHAT_ID, may be a group): a staff member's reply to a
  message of the bot (the support relay), or an admin's press of a refund button the bot
  posted there (`/paysupport` notes).

Everything else in a group, supergroup or channel is answered without showing anything:
a command (`/start`, `/start@bot payload`, `/help`, `/admin`, ...) gets a short pointer
with a link to the private chat, at most once per POINTER_SECONDS per member and chat;
a button press gets a short notice (and the pressed message loses its buttons), except in
the support chat: there a press by anyone not in ADMIN_IDS is refused as admins-only and
the message keeps its buttons (the refund buttons of a `/paysupport` note stay usable for
the admins; a member must not be able to strip them). Other
updates (the bot added to a group, channel posts, messages without a person) are dropped:
the bot stays silent in groups rather than leaving them.
"""

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)
from aiogram.types import User as TelegramUser

from shopbot.bot.callbacks import RefundCB
from shopbot.bot.context import BotContext
from shopbot.bot.money_confirm import MoneyCB
from shopbot.bot.texts import Texts, pick_language

log = logging.getLogger(__name__)

COMMAND = re.compile(r"\A/(\w{1,32})(?:@(\w+))?(?:\s+(\S.*))?\Z", re.DOTALL)
DEEP_LINK_PAYLOAD = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
"""What a t.me/<bot>?start= link may carry (Bot API, "Deep linking")."""
POINTER_SECONDS = 3
"""A bot may send about 20 messages a minute to one group (Bot API FAQ): one pointer per
member per 3 s keeps a member spamming /start within that."""
SUPPORT_CHAT_BUTTONS = (RefundCB.__prefix__, MoneyCB.__prefix__)
"""Callback data prefixes of the buttons the bot posts in the support chat (a refund and
its confirm/cancel, from `/paysupport` notes)."""


def private_link(username: str, payload: str | None) -> str:
    """https://t.me/<bot username>, with ?start=<payload> when the payload is a valid
    deep-link parameter ([A-Za-z0-9_-], 1-64 characters)."""
    if payload and DEEP_LINK_PAYLOAD.match(payload):
        return f"https://t.me/{username}?start={payload}"
    return f"https://t.me/{username}"


def support_chat_id(ctx: BotContext) -> int | None:
    """SUPPORT_CHAT_ID when it is a group (negative id); a private support chat needs no
    exception."""
    chat_id = ctx.settings.support_chat_id
    return chat_id if chat_id is not None and chat_id < 0 else None


class PrivateChatsOnly(BaseMiddleware):
    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat: Chat | None = data.get("event_chat")
        sender: TelegramUser | None = data.get("event_from_user")
        if self._allowed(event, chat, sender, data["bot"]):
            return await handler(event, data)
        t = Texts(pick_language(sender.language_code if sender else None))
        try:
            if event.message is not None and chat is not None and chat.type != "private":
                await self._point(event.message, sender, t, data["bot"])
            elif event.callback_query is not None:
                await self._notice(event.callback_query, t, sender)
        except TelegramAPIError as error:  # e.g. no right to write in that group
            log.info("no answer in chat %s: %s", chat.id if chat else None, error)
        return None

    def _allowed(
        self, update: Update, chat: Chat | None, sender: TelegramUser | None, bot: Bot
    ) -> bool:
        if update.pre_checkout_query is not None:
            return True
        message = update.message
        if message is not None and (message.successful_payment or message.refunded_payment):
            return True
        if chat is None or sender is None or sender.is_bot:
            return False
        if chat.type == "private":
            return chat.id == sender.id
        if chat.id != support_chat_id(self.ctx):
            return False
        if message is not None:  # the support relay: replies to the bot, not commands
            replied = message.reply_to_message
            is_command = (message.text or "").startswith("/")
            return (
                replied is not None
                and replied.from_user is not None
                and (replied.from_user.id == bot.id and not is_command)
            )
        query = update.callback_query
        return (
            query is not None
            and self.ctx.is_admin(sender.id)
            and (query.data or "").split(":", 1)[0] in SUPPORT_CHAT_BUTTONS
        )

    async def _point(
        self, message: Message, sender: TelegramUser | None, t: Texts, bot: Bot
    ) -> None:
        """A command for this bot gets the pointer to the private chat; anything else
        in a group is not addressed to the shop and gets nothing."""
        me = await bot.me()
        command = COMMAND.match(message.text or message.caption or "")
        if command is None or (command[2] and command[2].lower() != (me.username or "").lower()):
            return
        who = sender.id if sender else 0
        key = f"shopbot:group-pointer:{message.chat.id}:{who}"
        if not await self.ctx.coordination.set_if_absent(key, "1", POINTER_SECONDS):
            return
        payload = command[3].strip() if command[1].lower() == "start" and command[3] else None
        link = private_link(me.username or "", payload)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=t("groups.open_button"), url=link)]]
        )
        await message.answer(t("groups.private_only"), reply_markup=markup)

    async def _notice(self, query: CallbackQuery, t: Texts, sender: TelegramUser | None) -> None:
        """Answers the press without showing anything; the pressed message in a group
        loses its buttons so nobody presses them again, unless it is in the support chat,
        whose buttons are the admins' (a non-admin is told so)."""
        message = query.message
        in_support = isinstance(message, Message) and message.chat.id == support_chat_id(self.ctx)
        if in_support:
            admin = sender is not None and self.ctx.is_admin(sender.id)
            notice = "groups.button_notice" if admin else "groups.support_admins_only"
            await query.answer(t(notice), show_alert=True)
            return
        await query.answer(t("groups.button_notice"), show_alert=True)
        if isinstance(message, Message) and message.chat.type != "private" and message.reply_markup:
            with contextlib.suppress(TelegramAPIError):
                await message.edit_reply_markup(reply_markup=None)
