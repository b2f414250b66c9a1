"""Admin money actions are asked first and done on Confirm (docs/bot.md, "Admin money
actions"): the screen says what will happen, the Confirm button carries a nonce kept in
the admin's dialog data, and only the tap that takes that nonce acts. A second tap (a
double tap, a redelivered update, an old screen) finds no nonce and does nothing; the
domain's conditional updates and ledger idempotency keys stop a concurrent twin too.

The nonce (and any dialog state of the action, e.g. the Heleket refund's address prompt)
lives in the admin's PRIVATE chat with the bot, where every confirm screen and prompt is
shown: a refund button pressed in the support group (`/paysupport` notes) is asked and
confirmed in the admin's private chat (`admin_dialog`).
"""

import secrets
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.callbacks import RefundKind
from shopbot.bot.failures import not_modified
from shopbot.bot.keyboards import button, rows
from shopbot.bot.texts import Texts
from shopbot.domain.ids import DbId

PENDING = "money_confirm"
"""The dialog-data key of the one money action awaiting its Confirm."""


class MoneyCB(CallbackData, prefix="mny"):
    """Confirm (go) or cancel an admin money action: `action` the refund's kind, `ref` the
    order id, top-up invoice id or Stars payment row id."""

    action: RefundKind
    ref: DbId
    nonce: str
    go: bool = True


def admin_dialog(state: FSMContext, admin_id: int) -> FSMContext:
    """The FSM context of `admin_id`'s private chat with the bot (a private chat's id is
    the user's id, Bot API "Chat"), whatever chat `state` was built for: the update's
    chat may be the support group, but the dialog and its Confirm happen in private."""
    key = state.key
    if (key.chat_id, key.user_id, key.thread_id, key.business_connection_id) == (
        admin_id,
        admin_id,
        None,
        None,
    ):
        return state
    private = StorageKey(bot_id=key.bot_id, chat_id=admin_id, user_id=admin_id, destiny=key.destiny)
    return FSMContext(storage=state.storage, key=private)


async def ask(
    state: FSMContext, admin_id: int, action: RefundKind, ref: int, **details: Any
) -> str:
    """Remember the action (with `details`, e.g. the wallet address) in the admin's
    private-chat dialog (`admin_dialog`) and return the nonce its Confirm button must
    carry (12 hex digits)."""
    nonce = secrets.token_hex(6)
    pending = {"action": action, "ref": ref, "nonce": nonce, **details}
    await admin_dialog(state, admin_id).update_data({PENDING: pending})
    return nonce


async def take(state: FSMContext, admin_id: int, pressed: MoneyCB) -> dict[str, Any] | None:
    """The pending action of `admin_id` (kept in their private-chat dialog) if `pressed`
    is its button, removed so it runs once; else None."""
    state = admin_dialog(state, admin_id)
    data = await state.get_data()
    pending = data.get(PENDING)
    if not isinstance(pending, dict) or (
        pending.get("action"),
        pending.get("ref"),
        pending.get("nonce"),
    ) != (pressed.action, pressed.ref, pressed.nonce):
        return None
    data.pop(PENDING)
    await state.set_data(data)
    return pending


def confirm_markup(
    t: Texts, action: RefundKind, ref: int, nonce: str, label_key: str = "money_admin.confirm"
) -> InlineKeyboardMarkup:
    return rows(
        [button(t(label_key), MoneyCB(action=action, ref=ref, nonce=nonce))],
        [button(t("common.cancel"), MoneyCB(action=action, ref=ref, nonce=nonce, go=False))],
    )


async def show_confirm(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """A confirm screen in the presser's private chat: the pressed screen is replaced when
    it is there, else (a button in the support group) a new message is sent privately,
    so customer details and the Confirm button never show in a group."""
    await query.answer()
    message = query.message
    if isinstance(message, Message) and message.chat.id == query.from_user.id:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if not_modified(exc):
                return
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)
