"""Admins refund a Telegram Stars payment: a refund button (on the payment's admin
screen or under a `/paysupport` note in the support chat) asks first, in the admin's
private chat; Confirm (money_confirm; run by admin_money) refunds through Telegram.

Part of the admin area (`admin_refunds`), so the admin gate (`AdminOnly`) has let only
admins in: the handlers check nothing themselves."""

import logging

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from shopbot.adapters.telegram.stars import TelegramStarsRefunder
from shopbot.bot.callbacks import AdminCB, AdminSection, RefundCB, RefundKind
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import button, record_menu, rows
from shopbot.bot.money_confirm import ask, confirm_markup
from shopbot.bot.payment_notices import send
from shopbot.bot.rendering import money, who
from shopbot.bot.routers.admin_common import AdminStarsCB
from shopbot.bot.screens import show_after_money
from shopbot.bot.texts import Texts
from shopbot.domain.errors import InsufficientFunds, NotFound, OrderStateError
from shopbot.domain.ledger import admin_actor, user_account
from shopbot.domain.payments.stars import StarRefundOutcome, StarRefundState, refund_star_payment
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User
from shopbot.observability.metrics import PAYMENTS

log = logging.getLogger(__name__)


async def refund_ask(
    query: CallbackQuery,
    callback_data: RefundCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
    state: FSMContext,
    uow: UnitOfWork,
) -> None:
    """Asks first: the button sits on a lookup screen, one tap must not move money."""
    payment = await uow.stars.get(callback_data.ref)
    balance = await uow.ledger.balance(user_account(payment.user_id)) if payment else None
    payer = await uow.users.get(payment.user_id) if payment else None
    if payment is None or balance is None:
        await query.answer(t("payment_refund.not_found"), show_alert=True)
        return
    if payment.refund_state is not StarRefundState.NONE:  # a stale or forged button
        state_text = t(f"money_admin.stars_state.{payment.refund_state.value}")
        await query.answer(t("money_admin.stars_not_refundable", state=state_text), show_alert=True)
        return
    text = t(
        "payment_refund.stars_confirm",
        stars=payment.stars,
        who=who(t, payment.user_id, payer),
        amount=money(payment.amount),
        balance=money(balance),
        currency=ctx.currency,
        charge=payment.charge_id,
    )
    nonce = await ask(state, user.id, RefundKind.STARS, payment.id)
    markup = confirm_markup(t, RefundKind.STARS, payment.id, nonce, "payment_refund.confirm_button")
    await query.answer()
    await bot.send_message(user.id, text, reply_markup=markup)


async def refund_stars(
    query: CallbackQuery, payment_id: int, t: Texts, ctx: BotContext, bot: Bot, state: FSMContext
) -> None:
    """Run a confirmed Stars refund (admin_money checks the nonce; the admin gate let
    only admins in) and report it with amounts, currency and the next step. Uses the
    factory `ctx.uows`: `refund_star_payment` commits the hold before the network call
    to Telegram (refundStarPayment) and settles it in another transaction after."""
    async with ctx.uows() as uow:
        payment = await uow.stars.get(payment_id)
    if payment is None:
        await _tell(query, t("payment_refund.not_found"), _after(t, payment_id))
        return
    shown = {"amount": money(payment.amount), "currency": ctx.currency}
    try:
        result = await refund_star_payment(
            ctx.uows,
            TelegramStarsRefunder(bot),
            payment_id=payment.id,
            actor=admin_actor(query.from_user.id),
        )
    except InsufficientFunds:
        await _tell(query, t("payment_refund.insufficient", **shown), _after(t, payment.id))
        return
    except (OrderStateError, NotFound):
        async with ctx.uows() as uow:
            payment = await uow.stars.get(payment_id) or payment
        state_text = t(f"money_admin.stars_state.{payment.refund_state.value}")
        await _tell(
            query, t("money_admin.stars_not_refundable", state=state_text), _after(t, payment.id)
        )
        return
    log.info(
        "admin %s: refund of Stars payment %s %s", query.from_user.id, payment.id, result.outcome
    )
    if result.outcome is StarRefundOutcome.REFUNDED:
        PAYMENTS.labels("stars", "refunded").inc()
        async with ctx.uows() as uow:
            payer = await uow.users.get(payment.user_id)
        # The payer first: the money has moved, and the admin's screen edit may fail.
        notice = Texts(payer.language if payer else "en")
        await send(
            bot,
            payment.user_id,
            notice(
                "payment_refund.user_stars_notice",
                stars=payment.stars,
                amount=money(payment.amount),
                currency=ctx.currency,
            ),
            record_menu(notice),
        )
        await _tell(
            query,
            t(
                "payment_refund.stars_done",
                stars=payment.stars,
                who=who(t, payment.user_id, payer),
                **shown,
            ),
            _after(t, payment.id),
        )
    elif result.outcome is StarRefundOutcome.REFUSED:
        await _tell(
            query,
            t("payment_refund.stars_refused", error=result.error or "", **shown),
            _after(t, payment.id),
        )
    else:
        nonce = await ask(state, query.from_user.id, RefundKind.STARS, payment.id)
        again = confirm_markup(
            t, RefundKind.STARS, payment.id, nonce, "payment_refund.confirm_button"
        )
        await _tell(query, t("payment_refund.stars_uncertain", error=result.error or ""), again)


def _after(t: Texts, payment_id: int) -> InlineKeyboardMarkup:
    """Under a refund result: back to the payment, or the admin menu."""
    return rows(
        [button(t("money_admin.back_to_payment"), AdminStarsCB(payment_id=payment_id))],
        [button(t("admin.menu"), AdminCB(to=AdminSection.HOME))],
    )


async def _tell(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """The admin's result screen; it may follow a money movement, so it never raises."""
    await show_after_money(query, text, markup)


def build() -> Router:
    router = Router(name="admin-refund-stars")
    router.callback_query.register(refund_ask, RefundCB.filter(F.kind == RefundKind.STARS))
    return router
