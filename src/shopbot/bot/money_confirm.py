"""Admin money actions are asked first and done on Confirm (docs/bot.md, "Admin money
actions"): the screen says what will happen, the Confirm button carries a nonce kept in
the admin's dialog data, and only the tap that takes that nonce acts. A second tap (a
double tap, a redelivered update, an old screen) finds no nonce and does nothing; the
domain's conditional updates and ledger idempotency keys stop a concurrent twin too.
"""

import secrets
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup

from shopbot.bot.keyboards import button, rows
from shopbot.bot.texts import Texts
from shopbot.domain.ids import DbId

PENDING = "money_confirm"
"""The dialog-data key of the one money action awaiting its Confirm."""


class MoneyCB(CallbackData, prefix="mny"):
    """Confirm (go) or cancel an admin money action: `action` order | heleket | stars,
    `ref` the order id, top-up invoice id or Stars payment row id."""

    action: str
    ref: DbId
    nonce: str
    go: bool = True


async def ask(state: FSMContext, action: str, ref: int, **details: Any) -> str:
    """Remember the action (with `details`, e.g. the wallet address) and return the
    nonce its Confirm button must carry."""
    nonce = secrets.token_hex(6)
    await state.update_data({PENDING: {"action": action, "ref": ref, "nonce": nonce, **details}})
    return nonce


async def take(state: FSMContext, pressed: MoneyCB) -> dict[str, Any] | None:
    """The pending action if `pressed` is its button, removed so it runs once; else None."""
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
    t: Texts, action: str, ref: int, nonce: str, label_key: str = "money_admin.confirm"
) -> InlineKeyboardMarkup:
    return rows(
        [button(t(label_key), MoneyCB(action=action, ref=ref, nonce=nonce))],
        [button(t("common.cancel"), MoneyCB(action=action, ref=ref, nonce=nonce, go=False))],
    )
