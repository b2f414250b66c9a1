"""Admin payment look-up: a shop order number, a top-up's order id, a Heleket uuid or a
Telegram Stars charge id; each view shows the state and the refund buttons that apply.

Balance refunds of orders are handled in admin_orders; Stars and Heleket refunds
(`RefundCB(kind=RefundKind.STARS | RefundKind.HELEKET)`) by the payment routers.
"""

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from shopbot.bot.callbacks import (
    AdminCB,
    AdminSection,
    AdminUserAction,
    AdminUserCB,
    FulfilCB,
    RefundCB,
    RefundKind,
)
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.rendering import money, who
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminOrderCB,
    AdminStarsCB,
    AdminStates,
    AdminTopupCB,
    cancel_row,
    customer,
    menu_button,
    parse_id,
    show,
    when,
)
from shopbot.bot.texts import Texts
from shopbot.domain.orders.models import REFUNDABLE, OrderStatus
from shopbot.domain.payments.models import InvoiceState, RefundState, TopupInvoice
from shopbot.domain.payments.stars import RETRYABLE as STARS_REFUNDABLE
from shopbot.domain.uow import UnitOfWork

View = tuple[str, InlineKeyboardMarkup]
MAX_QUERY = 128


def _user_row(t: Texts, user_id: int) -> list[InlineKeyboardButton]:
    return [
        button(t("admin.payments.user"), AdminUserCB(user_id=user_id, action=AdminUserAction.SHOW))
    ]


def _footer(t: Texts) -> list[InlineKeyboardButton]:
    return [
        button(t("admin.payments.another"), AdminCB(to=AdminSection.PAYMENTS)),
        *menu_button(t),
    ]


async def render_order(t: Texts, ctx: BotContext, uow: UnitOfWork, order_id: int) -> View | None:
    """The order's card and its actions, read in `uow`; None if there is no such order."""
    order = await uow.orders.get(order_id)
    if order is None:
        return None
    product = await uow.catalog.get_product_by_id(order.product_id)
    buyer = await uow.users.get(order.user_id)
    text = t(
        "admin.order.card",
        order_id=order.id,
        date=when(order.created_at),
        who=who(t, order.user_id, buyer),
        sku=order.sku,
        title=product.title.get(t.language) if product else order.sku,
        price=money(order.price),
        currency=ctx.currency,
        status=t(f"admin.status.{order.status.value}"),
        updated=when(order.updated_at),
    )
    actions: list[InlineKeyboardButton] = []
    if order.status in REFUNDABLE:
        actions.append(
            button(t("admin.order.refund"), RefundCB(kind=RefundKind.ORDER, ref=order.id))
        )
    if order.status is OrderStatus.AWAITING_FULFILMENT:
        actions.append(button(t("admin.mark_fulfilled"), FulfilCB(order_id=order.id)))
    return text, rows(actions, _user_row(t, order.user_id), _footer(t))


def _topup_view(t: Texts, invoice: TopupInvoice, payer: str) -> View:
    refund = invoice.refund_state.value
    if invoice.refund_amount is not None:
        refund += f" ({money(invoice.refund_amount)} {invoice.currency})"
    text = t(
        "admin.topup.card",
        order_id=invoice.order_id,
        uuid=invoice.uuid or "-",
        who=payer,
        amount=money(invoice.amount),
        currency=invoice.currency,
        state=invoice.state.value,
        gateway_status=invoice.gateway_status or "-",
        credited=money(invoice.credited_amount) if invoice.credited_amount is not None else "-",
        refund=refund,
        date=when(invoice.created_at),
        note=invoice.note or "-",
    )
    actions: list[InlineKeyboardButton] = []
    if invoice.state is InvoiceState.CREDITED and invoice.refund_state is RefundState.NONE:
        actions.append(
            button(t("admin.topup.refund"), RefundCB(kind=RefundKind.HELEKET, ref=invoice.id))
        )
    return text, rows(actions, _user_row(t, invoice.user_id), _footer(t))


async def render_stars(t: Texts, ctx: BotContext, uow: UnitOfWork, payment_id: int) -> View | None:
    """The Stars payment's card, read in `uow`; None if there is no such payment."""
    payment = await uow.stars.get(payment_id)
    if payment is None:
        return None
    text = t(
        "admin.stars.card",
        charge_id=payment.charge_id,
        who=await customer(t, uow, payment.user_id),
        stars=payment.stars,
        amount=money(payment.amount),
        currency=ctx.currency,
        refund=payment.refund_state.value,
        date=when(payment.created_at),
    )
    actions: list[InlineKeyboardButton] = []
    if payment.refund_state in STARS_REFUNDABLE:
        actions.append(
            button(t("admin.stars.refund"), RefundCB(kind=RefundKind.STARS, ref=payment.id))
        )
    return text, rows(actions, _user_row(t, payment.user_id), _footer(t))


async def find_payment(t: Texts, ctx: BotContext, uow: UnitOfWork, query: str) -> View | None:
    """A shop order number, a top-up order id, a Heleket uuid or a Stars charge id."""
    text = query.strip()
    if not text or len(text) > MAX_QUERY:
        return None
    order_id = parse_id(text)
    if order_id is not None:
        found = await render_order(t, ctx, uow, order_id)
        if found is not None:
            return found
    invoice = await uow.topups.get_by_order_id(text) or await uow.topups.get_by_uuid(text)
    payment = None if invoice else await uow.stars.get_by_charge_id(text)
    if invoice is not None:
        return _topup_view(t, invoice, await customer(t, uow, invoice.user_id))
    if payment is not None:
        return await render_stars(t, ctx, uow, payment.id)
    return None


async def payments_section(query: CallbackQuery, state: FSMContext, t: Texts) -> None:
    await state.clear()
    await state.set_state(AdminStates.payment_lookup)
    await show(query, t("admin.payments.ask"), rows(cancel_row(t)))


async def lookup(
    message: Message, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    found = await find_payment(t, ctx, uow, message.text or "")
    if found is None:
        await message.answer(
            t("admin.payments.not_found", query=(message.text or "").strip()[:MAX_QUERY]),
            reply_markup=rows(cancel_row(t)),
        )
        return
    await state.clear()
    text, markup = found
    await message.answer(text, reply_markup=markup)


async def order_view(
    query: CallbackQuery, callback_data: AdminOrderCB, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    found = await render_order(t, ctx, uow, callback_data.order_id)
    await show(query, *(found or (t("admin.order.not_found"), rows(menu_button(t)))))


async def topup_view(
    query: CallbackQuery, callback_data: AdminTopupCB, t: Texts, uow: UnitOfWork
) -> None:
    invoice = await uow.topups.get(callback_data.invoice_id)
    found = (
        None
        if invoice is None
        else _topup_view(t, invoice, await customer(t, uow, invoice.user_id))
    )
    await show(query, *(found or (t("admin.payments.gone"), rows(menu_button(t)))))


async def stars_view(
    query: CallbackQuery, callback_data: AdminStarsCB, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    found = await render_stars(t, ctx, uow, callback_data.payment_id)
    await show(query, *(found or (t("admin.payments.gone"), rows(menu_button(t)))))


def build() -> Router:
    router = Router(name="admin-payments")
    router.callback_query.register(payments_section, AdminCB.filter(F.to == AdminSection.PAYMENTS))
    router.message.register(lookup, StateFilter(AdminStates.payment_lookup), TEXT_INPUT)
    router.callback_query.register(order_view, AdminOrderCB.filter())
    router.callback_query.register(topup_view, AdminTopupCB.filter())
    router.callback_query.register(stars_view, AdminStarsCB.filter())
    return router
