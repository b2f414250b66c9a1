"""Admins refund a credited Heleket top-up to the payer's wallet: the address is asked,
then a screen shows the amount, the customer, the address and network in full, and the
refund goes out only on Confirm (money_confirm; run by admin_money).

Part of the admin area (`admin_refunds`), so the admin gate (`AdminOnly`) has let only
admins in: the handlers check nothing themselves."""

import logging

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.callbacks import AdminCB, AdminSection, RefundCB, RefundKind
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.money_confirm import admin_dialog, ask, confirm_markup
from shopbot.bot.rendering import money, who
from shopbot.bot.routers.admin_common import AdminTopupCB
from shopbot.bot.routers.topup import cancel_keyboard
from shopbot.bot.screens import show_after_money
from shopbot.bot.texts import Texts
from shopbot.domain.errors import DomainError, InsufficientFunds, InvalidInput, OrderStateError
from shopbot.domain.ledger import admin_actor
from shopbot.domain.payments.gateway import (
    GatewayRejected,
    GatewayUnauthorized,
    GatewayUnavailable,
)
from shopbot.domain.payments.models import InvoiceState, TopupInvoice
from shopbot.domain.payments.refunds import REFUNDABLE, request_refund, wallet_address
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User

log = logging.getLogger(__name__)


class HeleketRefundStates(StatesGroup):
    address = State()


async def refund_heleket(
    query: CallbackQuery,
    callback_data: RefundCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    state: FSMContext,
    uow: UnitOfWork,
) -> None:
    if ctx.gateway is None:
        await query.answer(t("payment_refund.heleket_off"), show_alert=True)
        return
    invoice = await uow.topups.get(callback_data.ref)
    payer = await uow.users.get(invoice.user_id) if invoice else None
    if invoice is None:
        await query.answer(t("payment_refund.not_found"), show_alert=True)
        return
    if not refundable(invoice):  # a stale or forged button: refuse before asking
        await query.answer(
            t("payment_refund.heleket_not_refundable_alert", order_id=invoice.order_id),
            show_alert=True,
        )
        return
    # The address is typed in the admin's private chat (where the prompt goes), also when
    # the button was pressed in the support group.
    dialog = admin_dialog(state, user.id)
    await dialog.set_state(HeleketRefundStates.address)
    await dialog.update_data(invoice_id=invoice.id)
    text = t(
        "payment_refund.heleket_ask_address",
        order_id=invoice.order_id,
        amount=money(invoice.credited_amount or invoice.amount),
        currency=invoice.currency,
        who=who(t, invoice.user_id, payer),
    )
    await query.answer()
    if query.bot is not None:
        await query.bot.send_message(user.id, text, reply_markup=cancel_keyboard(t, "refund"))


async def refund_address(
    message: Message, user: User, t: Texts, ctx: BotContext, state: FSMContext, uow: UnitOfWork
) -> None:
    """The address typed: show exactly what will happen and wait for Confirm."""
    try:
        address = wallet_address(message.text or "")
    except InvalidInput:
        await message.answer(
            t("payment_refund.bad_address"), reply_markup=cancel_keyboard(t, "refund")
        )
        return
    data = await state.get_data()
    await state.clear()
    if ctx.gateway is None:  # switched off while the address was typed
        await message.answer(t("payment_refund.admins_only"))
        return
    invoice = await uow.topups.get(int(data.get("invoice_id") or 0))
    payer = await uow.users.get(invoice.user_id) if invoice else None
    paid_in = await uow.topups.paid_with(invoice.uuid) if invoice and invoice.uuid else None
    if invoice is None:
        await message.answer(t("payment_refund.not_found"))
        return
    if not refundable(invoice):  # refunded or settled while the address was typed
        await message.answer(t("money_admin.heleket_not_refundable", order_id=invoice.order_id))
        return
    currency, network = paid_in or (None, None)
    amount = invoice.credited_amount or invoice.amount
    text = t(
        "money_admin.heleket_confirm",
        order_id=invoice.order_id,
        amount=money(amount),
        currency=invoice.currency,
        who=who(t, invoice.user_id, payer),
        address=address,
        network=network or t("money_admin.unknown"),
        payer_currency=currency or t("money_admin.unknown"),
    )
    nonce = await ask(state, user.id, RefundKind.HELEKET, invoice.id, address=address)
    await message.answer(
        text, reply_markup=confirm_markup(t, RefundKind.HELEKET, invoice.id, nonce)
    )


def refundable(invoice: TopupInvoice) -> bool:
    """Credited and never refunded through the shop: what `request_refund` accepts."""
    return invoice.state is InvoiceState.CREDITED and invoice.refund_state in REFUNDABLE


async def refund_confirmed(
    query: CallbackQuery, invoice_id: int, address: str, t: Texts, ctx: BotContext
) -> None:
    """Run a confirmed Heleket refund (admin_money checks the nonce; the admin gate let
    only admins in). Uses the factory `ctx.uows`: `request_refund` commits the hold before
    the network call to Heleket and settles it in another transaction after."""
    async with ctx.uows() as uow:
        invoice = await uow.topups.get(invoice_id)
    after = rows(
        [button(t("money_admin.back_to_payment"), AdminTopupCB(invoice_id=invoice_id))],
        [button(t("admin.menu"), AdminCB(to=AdminSection.HOME))],
    )
    if invoice is None or ctx.gateway is None:
        await _tell(query, t("payment_refund.not_found"), after)
        return
    shown = {
        "amount": money(invoice.credited_amount or invoice.amount),
        "currency": invoice.currency,
        "order_id": invoice.order_id,
    }
    try:
        held = await request_refund(
            ctx.uows,
            ctx.gateway,
            order_id=invoice.order_id,
            address=address,
            actor=admin_actor(query.from_user.id),
        )
    except GatewayUnavailable:
        await _tell(query, t("payment_refund.heleket_unavailable", **shown), after)
        return
    except DomainError as refusal:
        await _tell(query, refusal_text(t, refusal, **shown), after)
        return
    log.info("admin %s requested a refund of %s", query.from_user.id, invoice.order_id)
    shown["amount"] = money(held.refund_amount or invoice.amount)
    await _tell(query, t("payment_refund.heleket_requested", address=address, **shown), after)


def refusal_text(t: Texts, refusal: DomainError, **shown: str) -> str:
    """A refused Heleket refund in the admin's language, never the exception's text."""
    if isinstance(refusal, InsufficientFunds):
        return t("payment_refund.insufficient", **shown)
    if isinstance(refusal, OrderStateError):
        return t("money_admin.heleket_not_refundable", **shown)
    if isinstance(refusal, GatewayRejected | GatewayUnauthorized):
        return t("money_admin.heleket_rejected", **shown)
    return t("money_admin.heleket_invalid", **shown)


async def _tell(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """The admin's result screen; it may follow a ledger transaction, so it never raises."""
    await show_after_money(query, text, markup)


def build() -> Router:
    router = Router(name="admin-refund-heleket")
    router.callback_query.register(refund_heleket, RefundCB.filter(F.kind == RefundKind.HELEKET))
    router.message.register(
        refund_address, HeleketRefundStates.address, F.text & ~F.text.startswith("/")
    )
    return router
