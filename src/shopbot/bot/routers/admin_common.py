"""Shared by the admin routers: who is an admin, the dialog states, the admin-only
callback data and small rendering helpers."""

from datetime import datetime
from typing import Any

from aiogram import F
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, TelegramObject
from aiogram.types import User as TelegramUser

from shopbot.bot.callbacks import AdminCB, AdminSection, BroadcastAction, DialogAction, Page
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import who
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain.ids import DbId
from shopbot.domain.ids import parse_id as parse_any_id
from shopbot.domain.ledger import admin_actor
from shopbot.domain.uow import UnitOfWork

__all__ = ["admin_actor", "show"]  # the admin routers import them from here

TEXT_INPUT = F.text & ~F.text.startswith("/")
"""Dialog input: any text but a command (a command abandons the dialog)."""


class AdminOnly(Filter):
    """Passes admins (ADMIN_IDS) only; for anyone else the update goes on to the other
    routers as if the admin handlers did not exist."""

    async def __call__(
        self,
        event: TelegramObject,
        ctx: BotContext,
        event_from_user: TelegramUser | None = None,
    ) -> bool:
        return event_from_user is not None and ctx.is_admin(event_from_user.id)


class AdminStates(StatesGroup):
    user_lookup = State()
    payment_lookup = State()
    adjust_amount = State()
    adjust_reason = State()
    upload_stock = State()
    fulfil_note = State()
    broadcast_content = State()
    broadcast_buttons = State()


class ProductDialog(StatesGroup):
    """One state per field of the guided create / edit dialog."""

    sku = State()
    kind = State()
    title_ru = State()
    title_en = State()
    description_ru = State()
    description_en = State()
    price = State()
    content = State()
    category = State()
    review = State()


class AdminDialogCB(CallbackData, prefix="admd"):
    """Buttons inside admin dialogs; `value` the choice or a nonce."""

    action: DialogAction
    value: str = ""


class AdminProductsPageCB(CallbackData, prefix="admpl"):
    page: Page


class AdminOrderCB(CallbackData, prefix="admo"):
    """An admin's view of one shop order."""

    order_id: DbId


class AdminTopupCB(CallbackData, prefix="admt"):
    """An admin's view of one top-up invoice."""

    invoice_id: DbId


class AdminStarsCB(CallbackData, prefix="adms"):
    """An admin's view of one Telegram Stars payment."""

    payment_id: DbId


class BroadcastCB(CallbackData, prefix="admb"):
    """`nonce` ties the confirmation to one preview."""

    action: BroadcastAction
    nonce: str = ""


def parse_id(text: str) -> int | None:
    """A numeric id as an admin types it ("1001", "#17"); None for anything else, including
    numbers no stored id can have (see `shopbot.domain.ids`)."""
    return parse_any_id(text.strip().removeprefix("#"))


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def menu_button(t: Texts) -> list[Any]:
    return [button(t("admin.menu"), AdminCB(to=AdminSection.HOME))]


def cancel_row(t: Texts) -> list[Any]:
    return [button(t("common.cancel"), AdminDialogCB(action=DialogAction.CANCEL))]


def admin_menu(t: Texts) -> InlineKeyboardMarkup:
    return rows(
        [
            button(t("admin.section.stats"), AdminCB(to=AdminSection.STATS)),
            button(t("admin.section.products"), AdminCB(to=AdminSection.PRODUCTS)),
        ],
        [
            button(t("admin.section.users"), AdminCB(to=AdminSection.USERS)),
            button(t("admin.section.payments"), AdminCB(to=AdminSection.PAYMENTS)),
        ],
        [
            button(t("fulfil.section"), AdminCB(to=AdminSection.FULFIL)),
            button(t("admin.section.broadcast"), AdminCB(to=AdminSection.BROADCAST)),
        ],
    )


async def customer(t: Texts, uow: UnitOfWork, user_id: int) -> str:
    """The customer `user_id` as admins see them (rendering.who: @username and id), read
    in the update's unit of work."""
    return who(t, user_id, await uow.users.get(user_id))
