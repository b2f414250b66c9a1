"""Admins refund a credited Heleket top-up to the payer's wallet (the address is asked)."""

import logging
import re

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from shopbot.bot.callbacks import RefundCB
from shopbot.bot.context import BotContext
from shopbot.bot.rendering import money
from shopbot.bot.routers.topup import cancel_keyboard
from shopbot.bot.texts import Texts
from shopbot.domain.errors import DomainError
from shopbot.domain.payments.gateway import GatewayUnavailable
from shopbot.domain.payments.refunds import request_refund
from shopbot.domain.users import User

log = logging.getLogger(__name__)
WALLET_ADDRESS = re.compile(r"^[A-Za-z0-9:_.\-]{10,128}$")


class HeleketRefundStates(StatesGroup):
    address = State()


async def refund_heleket(
    query: CallbackQuery,
    callback_data: RefundCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    state: FSMContext,
) -> None:
    if not ctx.is_admin(user.id):
        await query.answer(t("payment_refund.admins_only"), show_alert=True)
        return
    if ctx.gateway is None:
        await query.answer(t("payment_refund.heleket_off"), show_alert=True)
        return
    async with ctx.uows() as uow:
        invoice = await uow.topups.get(callback_data.ref)
    if invoice is None:
        await query.answer(t("payment_refund.not_found"), show_alert=True)
        return
    await state.set_state(HeleketRefundStates.address)
    await state.update_data(invoice_id=invoice.id)
    text = t(
        "payment_refund.heleket_ask_address",
        order_id=invoice.order_id,
        amount=money(invoice.credited_amount or invoice.amount),
        currency=invoice.currency,
        user_id=invoice.user_id,
    )
    await query.answer()
    if query.bot is not None:
        await query.bot.send_message(user.id, text, reply_markup=cancel_keyboard(t, "refund"))


async def refund_address(
    message: Message, user: User, t: Texts, ctx: BotContext, state: FSMContext
) -> None:
    address = (message.text or "").strip()
    if not WALLET_ADDRESS.match(address):
        await message.answer(
            t("payment_refund.bad_address"), reply_markup=cancel_keyboard(t, "refund")
        )
        return
    data = await state.get_data()
    await state.clear()
    if not ctx.is_admin(user.id) or ctx.gateway is None:
        await message.answer(t("payment_refund.admins_only"))
        return
    async with ctx.uows() as uow:
        invoice = await uow.topups.get(int(data.get("invoice_id") or 0))
    if invoice is None:
        await message.answer(t("payment_refund.not_found"))
        return
    try:
        held = await request_refund(
            ctx.uows, ctx.gateway, order_id=invoice.order_id, address=address
        )
    except GatewayUnavailable:
        await message.answer(t("payment_refund.heleket_unavailable"))
        return
    except DomainError as refusal:  # insufficient balance, already refunded, Heleket refused
        await message.answer(t("payment_refund.heleket_refused", error=str(refusal)))
        return
    log.info("admin %s requested a refund of %s", user.id, invoice.order_id)
    text = t(
        "payment_refund.heleket_requested",
        amount=money(held.refund_amount or invoice.amount),
        currency=invoice.currency,
        order_id=invoice.order_id,
    )
    await message.answer(text)


def build() -> Router:
    router = Router(name="topup_refund")
    router.callback_query.register(refund_heleket, RefundCB.filter(F.kind == "heleket"))
    router.message.register(
        refund_address, HeleketRefundStates.address, F.text & ~F.text.startswith("/")
    )
    return router
