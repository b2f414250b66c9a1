"""Admin actions on shop orders: refund to the buyer's balance, and fulfilment of manual
orders (the button admins get with `announce_manual_order`). The buyer is told in
their own language, after the change is committed.

Handlers work in the update's unit of work (`uow`, UnitOfWorkMiddleware): a change is
committed before any message reports it, so no row lock is held across a Telegram call
and a failure after the commit cannot undo what the buyer was told."""

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopbot.bot.callbacks import AdminCB, AdminSection, FulfilCB, RefundCB, RefundKind
from shopbot.bot.context import BotContext
from shopbot.bot.failures import retrying
from shopbot.bot.keyboards import button, record_menu, rows
from shopbot.bot.money_confirm import ask, confirm_markup, show_confirm
from shopbot.bot.refusals import refusal_text
from shopbot.bot.rendering import money, who
from shopbot.bot.routers.admin_common import (
    TEXT_INPUT,
    AdminOrderCB,
    AdminStates,
    admin_actor,
    cancel_row,
    menu_button,
    show,
)
from shopbot.bot.routers.admin_payments import render_order
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.limits import telegram_length
from shopbot.domain.errors import DomainError
from shopbot.domain.orders.models import REFUNDABLE, Order, OrderStatus
from shopbot.domain.orders.use_cases import fulfil_order, refund_order
from shopbot.domain.uow import UnitOfWork
from shopbot.observability.metrics import ORDERS

log = logging.getLogger(__name__)
TO_FULFIL_SHOWN = 30
"""Orders listed on "Orders to fulfil" (one button each; an inline keyboard holds up to
100 buttons, Bot API InlineKeyboardMarkup)."""
MAX_NOTE = 3500
"""UTF-16 code units, as Telegram counts them: the note is the buyer's goods, sent with a
frame and a title of at most 128 units in one message of at most 4096."""


async def tell_buyer(
    bot: Bot,
    uow: UnitOfWork,
    order: Order,
    key: str,
    **params: object,
) -> bool:
    """Message the buyer in their language, retrying 429/5xx (`failures.retrying`); False
    if Telegram would not deliver it. Reads the buyer and product in `uow`; the caller
    has committed what the message reports.
    The message records a delivery or a refund, so it gets `record_menu` (never edited
    away)."""
    buyer = await uow.users.get(order.user_id)
    product = await uow.catalog.get_product_by_id(order.product_id)
    t = Texts(buyer.language if buyer else "en")
    title = product.title.get(t.language) if product else order.sku
    text = t(key, order_id=order.id, title=title, **params)
    try:
        await retrying(lambda: bot.send_message(order.user_id, text, reply_markup=record_menu(t)))
    except TelegramAPIError as exc:
        log.warning("could not tell the buyer of order %s: %s", order.id, exc)
        return False
    return True


async def refund_ask(
    query: CallbackQuery,
    callback_data: RefundCB,
    state: FSMContext,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    """The order's Refund button: say what will happen and wait for Confirm."""
    order = await uow.orders.get(callback_data.ref)
    buyer = await uow.users.get(order.user_id) if order else None
    product = await uow.catalog.get_product_by_id(order.product_id) if order else None
    if order is None:
        await query.answer(t("refusal.order_missing"), show_alert=True)
        return
    if order.status not in REFUNDABLE:
        status = t(f"admin.status.{order.status.value}")
        await query.answer(
            t("money_admin.order_not_refundable", order_id=callback_data.ref, status=status),
            show_alert=True,
        )
        return
    text = t(
        "money_admin.order_confirm",
        order_id=order.id,
        title=product.title.get(t.language) if product else order.sku,
        amount=money(order.price),
        currency=ctx.currency,
        who=who(t, order.user_id, buyer),
    )
    nonce = await ask(state, query.from_user.id, RefundKind.ORDER, order.id)
    await show_confirm(query, text, confirm_markup(t, RefundKind.ORDER, order.id, nonce))


async def refund(
    query: CallbackQuery, order_id: int, bot: Bot, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    """Run a confirmed order refund (admin_money checks the nonce) as this admin, in the
    update's unit of work `uow`: committed before the buyer and the admin are told."""
    back = rows([button(t("admin.order.view"), AdminOrderCB(order_id=order_id))], menu_button(t))
    try:
        order = await refund_order(
            uow,
            order_id,
            reason="refund by an admin in Telegram",
            actor=admin_actor(query.from_user.id),
        )
        await uow.commit()
        ORDERS.labels("refunded").inc()
    except DomainError:  # refunded meanwhile (another admin), or gone
        await uow.rollback()  # nothing of the refused refund may reach the update's commit
        current = await uow.orders.get(order_id)
        status = t(f"admin.status.{current.status.value}") if current else "-"
        await show(
            query, t("money_admin.order_not_refundable", order_id=order_id, status=status), back
        )
        return
    told = await tell_buyer(
        bot, uow, order, "admin.buyer.refunded", amount=money(order.price), currency=ctx.currency
    )
    found = await render_order(t, ctx, uow, order.id)
    note = t(
        "admin.order.refunded", order_id=order.id, amount=money(order.price), currency=ctx.currency
    )
    if not told:
        note += "\n" + t("admin.buyer_unreachable")
    text, markup = found or ("", back)
    await show(query, note + "\n\n" + text, markup)


async def fulfil_start(
    query: CallbackQuery,
    callback_data: FulfilCB,
    bot: Bot,
    state: FSMContext,
    t: Texts,
    uow: UnitOfWork,
) -> None:
    order = await uow.orders.get(callback_data.order_id)
    if order is None or order.status is not OrderStatus.AWAITING_FULFILMENT:
        status = t(f"admin.status.{order.status.value}") if order else "-"
        await query.answer(
            t("admin.fulfil.not_awaiting", order_id=callback_data.order_id, status=status),
            show_alert=True,
        )
        return
    await query.answer()
    await state.set_state(AdminStates.fulfil_note)
    await state.set_data({"order_id": order.id})
    # A new message: the announcement above stays as it was.
    await bot.send_message(
        query.from_user.id,
        t("admin.fulfil.ask", order_id=order.id),
        reply_markup=rows(cancel_row(t)),
    )


async def fulfil_note(
    message: Message, bot: Bot, state: FSMContext, t: Texts, uow: UnitOfWork
) -> None:
    """The admin's note for a manual order: the fulfilment is committed, then the buyer
    gets the note. A redelivered note finds the order fulfilled and changes nothing."""
    note = (message.text or "").strip()
    if not note or telegram_length(note) > MAX_NOTE:
        await message.answer(
            t("admin.fulfil.too_long", limit=MAX_NOTE), reply_markup=rows(cancel_row(t))
        )
        return
    order_id = int((await state.get_data())["order_id"])
    try:
        order = await fulfil_order(uow, order_id, note=note)
        # Before the buyer is messaged: no lock on the order across that call, and the
        # goods are never sent for a fulfilment a later failure could roll back.
        await uow.commit()
    except DomainError as refusal:  # another admin fulfilled it meanwhile, ...
        await uow.rollback()
        await state.clear()
        await message.answer(
            t("admin.invalid", reason=refusal_text(t, refusal)), reply_markup=rows(menu_button(t))
        )
        return
    await state.clear()
    told = await tell_buyer(bot, uow, order, "admin.buyer.fulfilled", note=note)
    text = t("admin.fulfil.done", order_id=order.id)
    if not told:
        text += "\n" + t("admin.buyer_unreachable")
    await message.answer(
        text,
        reply_markup=rows(
            [button(t("admin.order.view"), AdminOrderCB(order_id=order.id))], menu_button(t)
        ),
    )


async def to_fulfil(
    query: CallbackQuery, state: FSMContext, t: Texts, ctx: BotContext, uow: UnitOfWork
) -> None:
    """ "Orders to fulfil": paid manual orders still awaiting fulfilment, oldest first, each
    opening its order card (with "Mark fulfilled"). Also shows orders whose announcement
    reached no admin (`announce_manual_order`)."""
    await state.clear()
    waiting = await uow.orders.awaiting_fulfilment(TO_FULFIL_SHOWN)
    titles = {o.product_id: await uow.catalog.get_product_by_id(o.product_id) for o in waiting}
    buttons = []
    for order in waiting:
        product = titles.get(order.product_id)
        title = product.title.get(t.language) if product else order.sku
        label = t(
            "fulfil.item",
            order_id=order.id,
            title=title,
            price=money(order.price),
            currency=ctx.currency,
        )
        buttons.append([button(label, AdminOrderCB(order_id=order.id))])
    text = t("fulfil.list", limit=TO_FULFIL_SHOWN) if waiting else t("fulfil.none")
    refresh = [button(t("admin.refresh"), AdminCB(to=AdminSection.FULFIL))]
    await show(query, text, rows(*buttons, refresh, menu_button(t)))


def build() -> Router:
    router = Router(name="admin-orders")
    router.callback_query.register(to_fulfil, AdminCB.filter(F.to == AdminSection.FULFIL))
    router.callback_query.register(refund_ask, RefundCB.filter(F.kind == RefundKind.ORDER))
    router.callback_query.register(fulfil_start, FulfilCB.filter())
    router.message.register(fulfil_note, StateFilter(AdminStates.fulfil_note), TEXT_INPUT)
    return router
