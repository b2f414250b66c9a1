"""Support: the user's next message goes to the support chat, an admin's reply comes back.

The mapping is stateless: the message the bot posts in the support chat starts with a
tag `#u<user id>`, and a reply to it is routed by parsing that tag back from the replied-to
message. So it works across instances and restarts. Only messages the bot itself posted
in the support chat are trusted, and only their leading tag: a user cannot redirect an
answer by writing a tag into their own text.

Failures (docs/bot.md, "Support"): a support chat Telegram refuses for good gets the
message relayed to the next admin and an ERROR naming the setting and the operator's fix;
if nobody can be reached the customer is told once that it was not delivered. Albums
arrive as one update per item; `shopbot.bot.albums` routes the later items here and
keeps the answers to one per album.
"""

import html
import logging
import re
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyParameters

from shopbot.bot.albums import AlbumOf, first_in_album, route_album
from shopbot.bot.callbacks import MenuCB
from shopbot.bot.context import BotContext
from shopbot.bot.failures import PERMANENT, describe, operator_fix
from shopbot.bot.keyboards import button, main_menu, rows
from shopbot.bot.screens import show
from shopbot.bot.telegram_text import clip
from shopbot.bot.texts import Texts
from shopbot.domain.ids import parse_id
from shopbot.domain.users import User

log = logging.getLogger(__name__)

TAG = re.compile(r"\A#u([0-9]{1,20})\b", re.ASCII)
TEXT_LIMIT = 3500
"""UTF-16 code units of user or admin text carried over (Telegram allows 4096 with our
header, counted the same way)."""
CAPTION_LIMIT = 700
"""UTF-16 code units of a caption carried over (Telegram allows 1024 with our header)."""
CAPTIONED = ("photo", "video", "animation", "audio", "document", "voice")


class SupportStates(StatesGroup):
    writing = State()


class SupportCB(CallbackData, prefix="sup"):
    action: str
    """cancel"""


def support_chat(ctx: BotContext) -> int | None:
    """The chat that receives support messages: configured, else the first admin."""
    if ctx.settings.support_chat_id is not None:
        return ctx.settings.support_chat_id
    if ctx.settings.admin_ids:
        return ctx.settings.admin_ids[0]
    return min(ctx.admin_ids) if ctx.admin_ids else None


def tag(user_id: int) -> str:
    return f"#u{user_id}"


def tagged_user(message: Message) -> int | None:
    match = TAG.match(message.text or message.caption or "")
    return parse_id(match.group(1)) if match else None


async def support_texts(ctx: BotContext, chat_id: int) -> Texts:
    """The support chat's language: its admin's, when it is an admin's private chat."""
    async with ctx.uows() as uow:
        admin = await uow.users.get(chat_id)
    return Texts(admin.language if admin else "en")


async def resend(bot: Bot, message: Message, chat_id: int, caption: str | None) -> None:
    """The same file with our caption: documents and photos by file id, the rest copied."""
    if message.document is not None:
        await bot.send_document(chat_id, message.document.file_id, caption=caption)
    elif message.photo:
        await bot.send_photo(chat_id, message.photo[-1].file_id, caption=caption)
    else:
        await message.copy_to(chat_id, caption=caption)


async def ask(
    query: CallbackQuery, callback_data: MenuCB, state: FSMContext, t: Texts, ctx: BotContext
) -> None:
    if support_chat(ctx) is None:
        text, markup = t("support.unavailable"), main_menu(t)
    else:
        await state.set_state(SupportStates.writing)
        text = t("support.prompt")
        markup = rows([button(t("common.cancel"), SupportCB(action="cancel"))])
    await show(query, text, markup, keep=callback_data.keep)


async def cancel(query: CallbackQuery, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await query.answer(t("support.cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(t("menu.title"), reply_markup=main_menu(t))


def support_setting(ctx: BotContext) -> str:
    """The setting that chose the support chat, for the operator's log line."""
    if ctx.settings.support_chat_id is not None:
        return "SUPPORT_CHAT_ID"
    return "ADMIN_IDS (its first admin)"


def support_candidates(ctx: BotContext, chat_id: int) -> list[int]:
    """The support chat, then every other admin: a relay that the support chat refuses
    for good goes to the next admin, so the customer's message is not lost."""
    others = [a for a in [*ctx.settings.admin_ids, *sorted(ctx.admin_ids)] if a != chat_id]
    return [chat_id, *dict.fromkeys(others)]


async def relay(bot: Bot, ctx: BotContext, message: Message, user: User, chat_id: int) -> None:
    """Post the customer's message in `chat_id` under the tagged header. Raises aiogram's
    TelegramAPIError subclasses as Telegram answers."""
    staff = await support_texts(ctx, chat_id)
    sender = message.from_user
    header = f"{tag(user.id)} " + staff(
        "support.header",
        name=sender.full_name if sender else "",
        username=f"@{user.username}" if user.username else staff("support.no_username"),
        user_id=user.id,
    )
    if message.text is not None:
        body = html.escape(clip(message.text, TEXT_LIMIT), quote=False)
        await bot.send_message(chat_id, f"{header}\n\n{body}")
    elif message.content_type in CAPTIONED:
        # Every album item carries the header too: a reply to any of them reaches the user.
        caption = html.escape(clip(message.caption or "", CAPTION_LIMIT), quote=False)
        await resend(bot, message, chat_id, f"{header}\n\n{caption}".rstrip())
    else:  # stickers, locations, ...: no caption, so the tagged header goes first
        posted = await bot.send_message(chat_id, f"{header}\n{staff('support.media_follows')}")
        await message.copy_to(
            chat_id, reply_parameters=ReplyParameters(message_id=posted.message_id)
        )


async def to_support(
    message: Message, bot: Bot, state: FSMContext, user: User, t: Texts, ctx: BotContext
) -> None:
    """Relay the customer's message (each item of an album) to the support chat and
    confirm once (once per album). A permanent refusal by Telegram is logged with the
    operator's fix and the next admin is tried; if nobody can be reached the customer
    is told the message was not delivered. Transient errors propagate (redelivery)."""
    chat_id = support_chat(ctx)
    if chat_id is None:
        await state.clear()
        if await first_in_album(ctx, message, "support.unavailable"):
            await message.answer(t("support.unavailable"), reply_markup=main_menu(t))
        return
    await route_album(ctx, message, "support")  # before the state that routed it is gone
    delivered = False
    for target in support_candidates(ctx, chat_id):
        try:
            await relay(bot, ctx, message, user, target)
        except PERMANENT as error:
            setting = support_setting(ctx) if target == chat_id else f"admin {target}"
            log.error(
                "support message from user %s not delivered to %s: %s; %s",
                user.id,
                setting,
                describe(error),
                operator_fix(error, setting),
            )
            continue
        delivered = True
        break
    await state.clear()
    if not delivered:
        if await first_in_album(ctx, message, "support.not_delivered"):
            await message.answer(t("support.not_delivered"), reply_markup=main_menu(t))
        return
    if await first_in_album(ctx, message, "support.sent"):
        await message.answer(t("support.sent"), reply_markup=main_menu(t))


def support_reply(message: Message, bot: Bot, ctx: BotContext) -> bool | dict[str, Any]:
    """An answer to a message the bot posted with a user's tag, in the support chat or
    in an admin's private chat (where relays go when the support chat refuses them)."""
    replied = message.reply_to_message
    in_admin_chat = message.chat.type == "private" and ctx.is_admin(message.chat.id)
    if replied is None or (message.chat.id != support_chat(ctx) and not in_admin_chat):
        return False
    if replied.from_user is None or replied.from_user.id != bot.id:
        return False
    customer_id = tagged_user(replied)
    return False if customer_id is None else {"customer_id": customer_id}


async def answer_user(
    message: Message, bot: Bot, customer_id: int, t: Texts, ctx: BotContext
) -> None:
    """Carry an admin's answer to the customer; an album arrives item by item under one
    title, and the admin gets one confirmation (or one failure notice) per album."""
    async with ctx.uows() as uow:
        customer = await uow.users.get(customer_id)
    if customer is None:
        await message.reply(t("support.reply_failed", user_id=customer_id))
        return
    theirs = Texts(customer.language)
    try:
        if message.text is not None:
            text = clip(message.text, TEXT_LIMIT)
            await bot.send_message(customer_id, theirs("support.reply", text=text))
        else:
            if await first_in_album(ctx, message, "support.reply_title"):
                await bot.send_message(customer_id, theirs("support.reply_title"))
            if message.content_type in CAPTIONED:
                await resend(
                    bot, message, customer_id, message.html_text if message.caption else None
                )
            else:
                await message.copy_to(customer_id)
    except PERMANENT as error:  # blocked the bot, or no such chat
        log.info("support answer to %s not delivered: %s", customer_id, describe(error))
        if await first_in_album(ctx, message, "support.reply_failed"):
            await message.reply(t("support.reply_failed", user_id=customer_id))
        return
    if await first_in_album(ctx, message, "support.reply_sent"):
        await message.reply(t("support.reply_sent", user_id=customer_id))


def in_support_group(message: Message, ctx: BotContext) -> bool:
    return message.chat.type != "private" and message.chat.id == support_chat(ctx)


async def ignore(message: Message) -> None:
    """The staff's own conversation in a support group is not addressed to the bot."""


def build() -> Router:
    router = Router(name="support")
    router.callback_query.register(ask, MenuCB.filter(F.to == "support"))
    router.callback_query.register(cancel, SupportCB.filter(F.action == "cancel"))
    router.message.register(answer_user, support_reply)
    writing = or_f(StateFilter(SupportStates.writing), AlbumOf("support"))
    router.message.register(to_support, writing, ~F.text.startswith("/"))
    router.message.register(ignore, in_support_group)
    return router
