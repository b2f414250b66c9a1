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

from shopbot.bot.albums import (
    AlbumOf,
    album_decision,
    first_in_album,
    record_decision,
    route_album,
)
from shopbot.bot.callbacks import MenuCB, MenuTarget, SupportAction
from shopbot.bot.context import BotContext
from shopbot.bot.failures import PERMANENT, describe, operator_fix
from shopbot.bot.keyboards import button, main_menu, rows
from shopbot.bot.screens import show
from shopbot.bot.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, fits, split, visible_length
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.limits import telegram_length
from shopbot.domain.ids import parse_id
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User

log = logging.getLogger(__name__)

TAG = re.compile(r"\A#u([0-9]{1,20})\b", re.ASCII)
PART_MARK = " (99/99)"
"""The widest "(part/parts)" after a later part's tag, for its length budget."""
CAPTIONED = ("photo", "video", "animation", "audio", "document", "voice")


class SupportStates(StatesGroup):
    writing = State()


class SupportCB(CallbackData, prefix="sup"):
    action: SupportAction


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


async def support_texts(uow: UnitOfWork, chat_id: int) -> Texts:
    """The support chat's language: its admin's, when it is an admin's private chat."""
    admin = await uow.users.get(chat_id)
    return Texts(admin.language if admin else "en")


async def resend(bot: Bot, message: Message, chat_id: int, caption: str | None) -> int:
    """The same file with our caption: documents and photos by file id, the rest copied.
    Returns the new message's id."""
    if message.document is not None:
        sent = await bot.send_document(chat_id, message.document.file_id, caption=caption)
    elif message.photo:
        sent = await bot.send_photo(chat_id, message.photo[-1].file_id, caption=caption)
    else:
        return (await message.copy_to(chat_id, caption=caption)).message_id
    return sent.message_id


async def send_tagged(
    bot: Bot, chat_id: int, header: str, user_id: int, text: str, *, reply_to: int | None = None
) -> None:
    """Post plain `text` under the tagged `header` (HTML) in `chat_id`, whole: in one
    message when it fits Telegram's 4096 UTF-16 units (sendMessage), else in parts, the
    first under the header and each later one tagged "#u<id> (k/n)" and replying to the
    first, so a reply to any part reaches the customer. Raises TelegramAPIError."""
    prefix = f"{header}\n\n"
    whole = prefix + html.escape(text, quote=False)
    if fits(whole):
        await bot.send_message(chat_id, whole, reply_parameters=_reply(reply_to))
        return
    later = telegram_length(f"{tag(user_id)}{PART_MARK}\n\n")
    parts = split(text, MESSAGE_LIMIT - visible_length(prefix), MESSAGE_LIMIT - later)
    for number, part in enumerate(parts, start=1):
        lead = prefix if number == 1 else f"{tag(user_id)} ({number}/{len(parts)})\n\n"
        posted = await bot.send_message(
            chat_id, lead + html.escape(part, quote=False), reply_parameters=_reply(reply_to)
        )
        if number == 1:
            reply_to = posted.message_id


def _reply(message_id: int | None) -> ReplyParameters | None:
    return None if message_id is None else ReplyParameters(message_id=message_id)


async def ask(
    query: CallbackQuery, callback_data: MenuCB, state: FSMContext, t: Texts, ctx: BotContext
) -> None:
    if support_chat(ctx) is None:
        text, markup = t("support.unavailable"), main_menu(t)
    else:
        await state.set_state(SupportStates.writing)
        text = t("support.prompt")
        markup = rows([button(t("common.cancel"), SupportCB(action=SupportAction.CANCEL))])
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


async def relay(bot: Bot, uow: UnitOfWork, message: Message, user: User, chat_id: int) -> None:
    """Post the customer's message in `chat_id` under the tagged header. Raises aiogram's
    TelegramAPIError subclasses as Telegram answers."""
    staff = await support_texts(uow, chat_id)
    sender = message.from_user
    header = f"{tag(user.id)} " + staff(
        "support.header",
        name=sender.full_name if sender else "",
        username=f"@{user.username}" if user.username else staff("support.no_username"),
        user_id=user.id,
    )
    if message.text is not None:
        await send_tagged(bot, chat_id, header, user.id, message.text)
    elif message.content_type in CAPTIONED:
        # Every album item carries the header too: a reply to any of them reaches the user.
        caption = message.caption or ""
        captioned = f"{header}\n\n{html.escape(caption, quote=False)}".rstrip()
        if fits(captioned, CAPTION_LIMIT):
            await resend(bot, message, chat_id, captioned)
        else:  # 1024 units (sendPhoto) hold the file's caption, not ours too
            file_id = await resend(bot, message, chat_id, header)
            await send_tagged(bot, chat_id, header, user.id, caption, reply_to=file_id)
    else:  # stickers, locations, ...: no caption, so the tagged header goes first
        posted = await bot.send_message(chat_id, f"{header}\n{staff('support.media_follows')}")
        await message.copy_to(
            chat_id, reply_parameters=ReplyParameters(message_id=posted.message_id)
        )


async def to_support(
    message: Message,
    bot: Bot,
    state: FSMContext,
    user: User,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
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
    candidates = support_candidates(ctx, chat_id)
    # An album goes to one chat: the item that decides records it, the others follow.
    decided = await album_decision(ctx, message, "support-target")
    chosen = parse_id(decided) if decided is not None else None
    if chosen in candidates:
        candidates.remove(chosen)
        candidates.insert(0, chosen)
    delivered_to: int | None = None
    try:
        delivered_to = await _relay_first(bot, ctx, uow, message, user, chat_id, candidates)
    finally:
        if decided is None:  # this item decided (or failed to: the next one decides)
            value = None if delivered_to is None else str(delivered_to)
            await record_decision(ctx, message, "support-target", value)
    await state.clear()
    if delivered_to is None:
        if await first_in_album(ctx, message, "support.not_delivered"):
            await message.answer(t("support.not_delivered"), reply_markup=main_menu(t))
        return
    if await first_in_album(ctx, message, "support.sent"):
        await message.answer(t("support.sent"), reply_markup=main_menu(t))


async def _relay_first(
    bot: Bot,
    ctx: BotContext,
    uow: UnitOfWork,
    message: Message,
    user: User,
    chat_id: int,
    candidates: list[int],
) -> int | None:
    """Relay to the first of `candidates` that takes it; returns that chat (None: none
    did). Permanent refusals are logged with the operator's fix; others propagate."""
    for target in candidates:
        try:
            await relay(bot, uow, message, user, target)
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
        return target
    return None


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
    message: Message, bot: Bot, customer_id: int, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    """Carry an admin's answer to the customer; an album arrives item by item under one
    title, and the admin gets one confirmation (or one failure notice) per album."""
    customer = await uow.users.get(customer_id)
    if customer is None:
        await message.reply(t("support.reply_failed", user_id=customer_id))
        return
    theirs = Texts(customer.language)
    try:
        if message.text is not None:
            await send_answer(bot, customer_id, theirs, message.text)
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


async def send_answer(bot: Bot, customer_id: int, theirs: Texts, text: str) -> None:
    """An admin's plain `text` to the customer, whole: under the "Reply from support"
    title in one message when that fits 4096 UTF-16 units (sendMessage), else the title
    and then the text in as many messages as it takes. Raises TelegramAPIError."""
    whole = theirs("support.reply", text=text)
    if fits(whole):
        await bot.send_message(customer_id, whole)
        return
    await bot.send_message(customer_id, theirs("support.reply_title"))
    for part in split(text, MESSAGE_LIMIT):
        await bot.send_message(customer_id, html.escape(part, quote=False))


def in_support_group(message: Message, ctx: BotContext) -> bool:
    return message.chat.type != "private" and message.chat.id == support_chat(ctx)


async def ignore(message: Message) -> None:
    """The staff's own conversation in a support group is not addressed to the bot."""


def build() -> Router:
    router = Router(name="support")
    router.callback_query.register(ask, MenuCB.filter(F.to == MenuTarget.SUPPORT))
    router.callback_query.register(cancel, SupportCB.filter(F.action == SupportAction.CANCEL))
    router.message.register(answer_user, support_reply)
    writing = or_f(StateFilter(SupportStates.writing), AlbumOf("support"))
    router.message.register(to_support, writing, ~F.text.startswith("/"))
    router.message.register(ignore, in_support_group)
    return router
