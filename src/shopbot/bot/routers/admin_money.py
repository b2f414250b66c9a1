"""Confirm / Cancel of admin money actions (money_confirm.MoneyCB): order refunds to the
balance, Heleket refunds to a wallet, Stars refunds. Included in the admin router, so
only admins (ADMIN_IDS) reach these handlers: anyone else's forged button falls through
to the fallback router and changes nothing.

Exactly once: `take` removes the Confirm's nonce before the action runs, so a second tap
or a redelivered update finds none and does nothing. An order refund runs in the
update's unit of work and is committed before anyone is told, so a failure after that
leaves the refund done (and the nonce gone), a failure before it leaves nothing (the
admin asks again); the domain's conditional updates stop a concurrent twin. Heleket and
Stars refunds take the factory (`ctx.uows`): each must commit around a call to the
payment provider."""

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from shopbot.bot.callbacks import AdminCB, AdminSection, RefundKind
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, rows
from shopbot.bot.money_confirm import MoneyCB, take
from shopbot.bot.routers import admin_orders, admin_refund_heleket, admin_refund_stars
from shopbot.bot.routers.admin_common import AdminOrderCB, AdminStarsCB, AdminTopupCB, show
from shopbot.bot.texts import Texts
from shopbot.domain.uow import UnitOfWork

ACTIONS = frozenset(RefundKind)


def _record(action: RefundKind, ref: int) -> CallbackData:
    """The button back to the payment (order, top-up, Stars payment) the action was on."""
    if action == RefundKind.ORDER:
        return AdminOrderCB(order_id=ref)
    if action == RefundKind.HELEKET:
        return AdminTopupCB(invoice_id=ref)
    return AdminStarsCB(payment_id=ref)


async def confirmed(
    query: CallbackQuery,
    callback_data: MoneyCB,
    state: FSMContext,
    bot: Bot,
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
) -> None:
    pending = await take(state, query.from_user.id, callback_data)
    if pending is None:  # the second tap of a double tap, or an old screen
        await query.answer(t("money_admin.expired"), show_alert=True)
        return
    if callback_data.action == RefundKind.ORDER:
        await admin_orders.refund(query, callback_data.ref, bot, t, ctx, uow)
    elif callback_data.action == RefundKind.HELEKET:
        await admin_refund_heleket.refund_confirmed(
            query, callback_data.ref, str(pending["address"]), t, ctx
        )
    elif callback_data.action == RefundKind.STARS:
        await admin_refund_stars.refund_stars(query, callback_data.ref, t, ctx, bot, state)


async def cancelled(
    query: CallbackQuery, callback_data: MoneyCB, state: FSMContext, t: Texts
) -> None:
    await take(state, query.from_user.id, callback_data)
    record = _record(callback_data.action, callback_data.ref)
    markup = rows(
        [button(t("money_admin.back_to_payment"), record)],
        [button(t("admin.menu"), AdminCB(to=AdminSection.HOME))],
    )
    await show(query, t("money_admin.cancelled"), markup)


def build() -> Router:
    router = Router(name="admin-money")
    known = F.action.in_(ACTIONS)
    router.callback_query.register(confirmed, MoneyCB.filter(known & F.go))
    router.callback_query.register(cancelled, MoneyCB.filter(known & ~F.go))
    return router
