"""Admin broadcast: text → preview → confirm; the sending runs in the background (it can
take minutes at 25 messages per second) and the admin gets the counts when it is done.

One broadcast at a time across all instances (a lease in the shared coordination
store, renewed after every page of users), and each preview can be sent once, so a
double tap or a redelivered update never broadcasts twice.
"""

import asyncio
import logging
import secrets
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.broadcast import Broadcaster, BroadcastReport
from shopbot.bot.callbacks import AdminCB, AdminSection, BroadcastAction
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminStates,
    BroadcastCB,
    cancel_row,
    menu_button,
    show,
)
from shopbot.bot.telegram_text import MESSAGE_LIMIT, visible_length
from shopbot.bot.texts import Texts
from shopbot.domain.uow import UnitOfWork

log = logging.getLogger(__name__)
LEASE_KEY = "shopbot:broadcast:running"
LEASE_TTL = 300
"""Seconds; renewed after every page, so a crashed instance frees it within this time."""
MAX_TEXT = MESSAGE_LIMIT
"""Telegram's limit, on the text after entity parsing in UTF-16 code units: `&` is one
character to Telegram though `&amp;` in the HTML the broadcast is sent as."""

_running: set["asyncio.Task[None]"] = set()
"""Broadcasts of this process (a reference keeps a task from being garbage-collected)."""


async def broadcast_section(
    query: CallbackQuery, state: FSMContext, t: Texts, uow: UnitOfWork
) -> None:
    await state.clear()
    reachable = await uow.users.count_reachable()
    await state.set_state(AdminStates.broadcast_text)
    await show(query, t("admin.broadcast.ask", count=reachable), rows(cancel_row(t)))


async def preview(message: Message, state: FSMContext, t: Texts, uow: UnitOfWork) -> None:
    text = message.html_text  # the admin's formatting, with everything else escaped
    if visible_length(text) > MAX_TEXT:
        await message.answer(
            t("admin.broadcast.too_long", limit=MAX_TEXT), reply_markup=rows(cancel_row(t))
        )
        return
    nonce = secrets.token_hex(6)
    await state.update_data(text=text, nonce=nonce)
    reachable = await uow.users.count_reachable()
    await message.answer(t("admin.broadcast.preview", count=reachable))
    await message.answer(
        text,
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
) -> None:
    data: dict[str, Any] = await state.get_data()
    nonce = callback_data.nonce
    if data.get("nonce") != nonce or not data.get("text"):
        await query.answer(t("admin.expired"), show_alert=True)
        return
    coordination = ctx.coordination
    if not await coordination.set_if_absent(LEASE_KEY, nonce, LEASE_TTL):
        await query.answer(t("admin.broadcast.busy"), show_alert=True)
        return
    if not await coordination.set_if_absent(f"shopbot:broadcast:{nonce}", "1", 7 * 24 * 3600):
        await coordination.delete(LEASE_KEY)  # this preview was sent already
        await query.answer(t("admin.expired"), show_alert=True)
        return
    await state.clear()
    task = asyncio.create_task(_run(bot, ctx, t, query.from_user.id, data["text"], nonce))
    _running.add(task)
    task.add_done_callback(_running.discard)
    # Courtesies only: the broadcast runs whatever happens to them. A toast is no message,
    # so it does not compete with the broadcast for the flood limit.
    try:
        await query.answer(t("admin.broadcast.started"), show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
    except TelegramAPIError as exc:
        log.info("could not confirm the broadcast start: %s", exc)


async def _run(bot: Bot, ctx: BotContext, t: Texts, admin_id: int, text: str, nonce: str) -> None:
    async def renew(_: BroadcastReport) -> None:
        await ctx.coordination.set(LEASE_KEY, nonce, LEASE_TTL)

    try:
        # The factory, not the update's unit of work: the broadcast outlives the update
        # and commits each page of users between its many Telegram calls.
        broadcaster = Broadcaster(
            bot, ctx.uows, rate=ctx.settings.broadcast_per_second, on_page=renew
        )
        report = await broadcaster.send(text)
        answer = t(
            "admin.broadcast.done",
            sent=report.sent,
            unreachable=report.unreachable,
            failed=report.failed,
        )
    except Exception:
        error_id = secrets.token_hex(4)
        log.exception("broadcast failed; error id %s", error_id)
        answer = t("admin.broadcast.crashed", error_id=error_id)
    finally:
        if await ctx.coordination.get(LEASE_KEY) == nonce:
            await ctx.coordination.delete(LEASE_KEY)
    await _tell(bot, admin_id, answer, rows(menu_button(t)))


async def _tell(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup) -> None:
    """The report comes right after a burst that used the whole rate: honour a 429."""
    for _ in range(5):
        try:
            await bot.send_message(chat_id, text, reply_markup=markup)
            return
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
        except TelegramAPIError as exc:  # the admin blocked the bot, a 5xx: the report only
            log.warning("could not report the broadcast to admin %s: %s", chat_id, exc)
            return
    log.warning("could not report the broadcast to admin %s", chat_id)


async def cancel(
    query: CallbackQuery, callback_data: BroadcastCB, state: FSMContext, t: Texts
) -> None:
    data: dict[str, Any] = await state.get_data()
    if data.get("nonce") == callback_data.nonce:
        await state.clear()
    await query.answer(t("admin.broadcast.cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


def build() -> Router:
    router = Router(name="admin-broadcast")
    router.callback_query.register(
        broadcast_section, AdminCB.filter(F.to == AdminSection.BROADCAST)
    )
    router.message.register(preview, StateFilter(AdminStates.broadcast_text), TEXT_INPUT)
    router.callback_query.register(send, BroadcastCB.filter(F.action == BroadcastAction.SEND))
    router.callback_query.register(cancel, BroadcastCB.filter(F.action == BroadcastAction.CANCEL))
    return router
