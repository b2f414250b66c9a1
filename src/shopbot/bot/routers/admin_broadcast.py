"""Admin broadcast: content (text, or a photo or document with a caption) → optional URL
buttons → a test send to the admin → confirm. Confirming creates the durable job (the
audience snapshot, `uow.broadcasts.create`) and shows the progress message with its
Cancel button; the worker (`bot/broadcast_worker.py`, on whichever instance holds the
lease) sends it and edits that message.

The confirmation's nonce is the job's `request_key` (UNIQUE): a double tap or a
redelivered update never creates a second job.
"""

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.broadcast_content import progress_keyboard, progress_text, send_content
from shopbot.bot.callbacks import AdminCB, AdminSection, BroadcastAction, BroadcastStopCB
from shopbot.bot.context import BotContext
from shopbot.bot.failures import retrying
from shopbot.bot.keyboards import button, rows
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminStates,
    BroadcastCB,
    cancel_row,
    show,
)
from shopbot.bot.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, visible_length
from shopbot.bot.texts import Texts
from shopbot.domain.broadcasts.buttons import MAX_BUTTONS, ButtonLineError, parse_buttons
from shopbot.domain.broadcasts.models import (
    BroadcastContent,
    BroadcastStatus,
    ContentKind,
    UrlButton,
)
from shopbot.domain.uow import UnitOfWork

log = logging.getLogger(__name__)
MAX_TEXT = MESSAGE_LIMIT
"""Telegram's limit, on the text after entity parsing in UTF-16 code units: `&` is one
character to Telegram though `&amp;` in the HTML the broadcast is sent as."""
MAX_CAPTION = CAPTION_LIMIT
"""Telegram's limit on a photo's or document's caption, counted the same way."""


async def broadcast_section(
    query: CallbackQuery, state: FSMContext, t: Texts, uow: UnitOfWork
) -> None:
    await state.clear()
    reachable = await uow.users.count_reachable()
    await state.set_state(AdminStates.broadcast_content)
    await show(query, t("admin.broadcast.ask", count=reachable), rows(cancel_row(t)))


def _content_of(message: Message) -> tuple[ContentKind, str | None]:
    if message.photo:
        return ContentKind.PHOTO, message.photo[-1].file_id  # the largest size
    if message.document:
        return ContentKind.DOCUMENT, message.document.file_id
    return ContentKind.TEXT, None


async def content(message: Message, state: FSMContext, t: Texts) -> None:
    kind, file_id = _content_of(message)
    html = message.html_text  # the admin's formatting, with everything else escaped
    limit = MAX_TEXT if kind is ContentKind.TEXT else MAX_CAPTION
    if visible_length(html) > limit:
        await message.answer(
            t("admin.broadcast.too_long", limit=limit), reply_markup=rows(cancel_row(t))
        )
        return
    nonce = secrets.token_hex(6)
    await state.update_data(kind=kind.value, html=html, file_id=file_id, nonce=nonce)
    await state.set_state(AdminStates.broadcast_buttons)
    skip = BroadcastCB(action=BroadcastAction.SKIP, nonce=nonce)
    await message.answer(
        t("admin.broadcast.ask_buttons"),
        reply_markup=rows([button(t("admin.broadcast.no_buttons"), skip)], cancel_row(t)),
    )


async def buttons(message: Message, state: FSMContext, t: Texts, bot: Bot, uow: UnitOfWork) -> None:
    try:
        parsed = parse_buttons(message.text or "")
    except ButtonLineError as exc:
        await message.answer(
            t(f"admin.broadcast.bad_buttons.{exc.reason}", line=exc.line, max=MAX_BUTTONS),
            reply_markup=rows(cancel_row(t)),
        )
        return
    await _test_send(bot, message.chat.id, state, t, uow, parsed)


async def skip_buttons(
    query: CallbackQuery,
    callback_data: BroadcastCB,
    state: FSMContext,
    t: Texts,
    bot: Bot,
    uow: UnitOfWork,
) -> None:
    data: dict[str, Any] = await state.get_data()
    if data.get("nonce") != callback_data.nonce or not data.get("kind"):
        await query.answer(t("admin.expired"), show_alert=True)
        return
    await query.answer()
    await _test_send(bot, query.from_user.id, state, t, uow, ())


def _content(data: dict[str, Any]) -> BroadcastContent:
    return BroadcastContent(
        kind=ContentKind(data["kind"]),
        html=data["html"],
        file_id=data.get("file_id"),
        buttons=tuple(UrlButton(label, url) for label, url in data.get("buttons", [])),
    )


async def _test_send(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    t: Texts,
    uow: UnitOfWork,
    parsed: tuple[UrlButton, ...],
) -> None:
    """The message exactly as every recipient will get it, to the admin first; then the
    confirmation under it."""
    await state.update_data(buttons=[[b.label, b.url] for b in parsed])
    data: dict[str, Any] = await state.get_data()
    try:
        await send_content(bot, chat_id, _content(data))
    except TelegramBadRequest as exc:  # a caption Telegram refuses, a bad URL, ...
        await state.set_state(AdminStates.broadcast_content)
        await bot.send_message(
            chat_id,
            t("admin.broadcast.test_failed", error=exc.message),
            reply_markup=rows(cancel_row(t)),
        )
        return
    await state.set_state(None)
    reachable = await uow.users.count_reachable()
    nonce = data["nonce"]
    await bot.send_message(
        chat_id,
        t("admin.broadcast.test_sent", count=reachable),
        reply_markup=rows(
            [
                button(
                    t("admin.broadcast.send"), BroadcastCB(action=BroadcastAction.SEND, nonce=nonce)
                ),
                button(t("common.cancel"), BroadcastCB(action=BroadcastAction.CANCEL, nonce=nonce)),
            ]
        ),
    )


async def send(
    query: CallbackQuery,
    callback_data: BroadcastCB,
    bot: Bot,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    data: dict[str, Any] = await state.get_data()
    nonce = callback_data.nonce
    if data.get("nonce") != nonce or not data.get("kind"):
        await query.answer(t("admin.expired"), show_alert=True)
        return
    admin_id = query.from_user.id
    broadcast = await uow.broadcasts.create(
        request_key=nonce, created_by=admin_id, content=_content(data), at=datetime.now(UTC)
    )
    await uow.commit()  # no row lock is held across the Telegram calls below
    await state.clear()
    if broadcast is None:  # this confirmation was used already
        await query.answer(t("admin.expired"), show_alert=True)
        return
    await _show_progress(bot, t, ctx, uow, broadcast.id, admin_id)
    # Courtesies only: the job runs whatever happens to them.
    try:
        await query.answer(t("admin.broadcast.started"))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
    except TelegramAPIError as exc:
        log.info("could not confirm the broadcast start: %s", exc)


async def _show_progress(
    bot: Bot, t: Texts, ctx: BotContext, uow: UnitOfWork, broadcast_id: int, admin_id: int
) -> None:
    """The progress message of a job committed already (a worker may be sending it).
    The worker edits it once it knows its id; if the job stopped before the id was
    stored, the worker's last edit found none, so this edits it to the final counts: of
    the two commits (the id here, the status there) the later one's reader sees the
    other's write."""
    rate = ctx.settings.broadcast_per_second

    async def render() -> tuple[str, InlineKeyboardMarkup | None, bool]:
        job = await uow.broadcasts.get(broadcast_id)
        assert job is not None  # committed above, never deleted
        progress = await uow.broadcasts.progress(broadcast_id)
        text = progress_text(t, broadcast_id, job.status, progress, rate)
        running = job.status is BroadcastStatus.RUNNING
        return text, progress_keyboard(t, broadcast_id, job.status), running

    text, markup, _ = await render()
    try:
        # The worker may be using the whole rate: honour a 429.
        shown = await retrying(lambda: bot.send_message(admin_id, text, reply_markup=markup))
    except TelegramAPIError as exc:  # the job runs without its progress message
        log.warning("broadcast %s: progress message not shown: %s", broadcast_id, exc)
        return
    await uow.broadcasts.set_progress_message(
        broadcast_id, chat_id=admin_id, message_id=shown.message_id
    )
    await uow.commit()
    text, markup, running = await render()
    if running:
        return
    try:
        await retrying(
            lambda: bot.edit_message_text(
                text, chat_id=admin_id, message_id=shown.message_id, reply_markup=markup
            )
        )
    except TelegramAPIError as exc:
        log.info("broadcast %s: final progress not shown: %s", broadcast_id, exc)


async def cancel(
    query: CallbackQuery, callback_data: BroadcastCB, state: FSMContext, t: Texts
) -> None:
    data: dict[str, Any] = await state.get_data()
    if data.get("nonce") == callback_data.nonce:
        await state.clear()
    await query.answer(t("admin.broadcast.cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def stop(
    query: CallbackQuery,
    callback_data: BroadcastStopCB,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    """The progress message's Cancel: the job is CANCELLED at once; the worker sends no
    further batch (the one in flight, at most `batch_size` messages, completes)."""
    broadcast_id = callback_data.broadcast_id
    stopped = await uow.broadcasts.cancel(broadcast_id, datetime.now(UTC))
    await uow.commit()
    broadcast = await uow.broadcasts.get(broadcast_id)
    if not stopped or broadcast is None:
        await query.answer(t("admin.broadcast.not_running"), show_alert=True)
        return
    await query.answer(t("admin.broadcast.stopped"))
    if isinstance(query.message, Message):
        progress = await uow.broadcasts.progress(broadcast_id)
        rate = ctx.settings.broadcast_per_second
        try:
            await query.message.edit_text(
                progress_text(t, broadcast_id, broadcast.status, progress, rate),
                reply_markup=progress_keyboard(t, broadcast_id, broadcast.status),
            )
        except TelegramAPIError as exc:  # the worker edits it once more when it stops
            log.info("could not show the cancelled broadcast: %s", exc)


def build() -> Router:
    router = Router(name="admin-broadcast")
    router.callback_query.register(
        broadcast_section, AdminCB.filter(F.to == AdminSection.BROADCAST)
    )
    router.message.register(
        content, StateFilter(AdminStates.broadcast_content), TEXT_INPUT | F.photo | F.document
    )
    router.message.register(buttons, StateFilter(AdminStates.broadcast_buttons), TEXT_INPUT)
    router.callback_query.register(
        skip_buttons, BroadcastCB.filter(F.action == BroadcastAction.SKIP)
    )
    router.callback_query.register(send, BroadcastCB.filter(F.action == BroadcastAction.SEND))
    router.callback_query.register(cancel, BroadcastCB.filter(F.action == BroadcastAction.CANCEL))
    router.callback_query.register(stop, BroadcastStopCB.filter())
    return router
