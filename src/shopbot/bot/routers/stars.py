"""Telegram Stars: the invoice (XTR, one price, no provider token), the pre-checkout
answer (re-validated, always within Telegram's 10 seconds), the credit once per
`telegram_payment_charge_id`, /paysupport, and admins' refunds of Stars payments."""

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from shopbot.adapters.telegram.notifier import complete_purchase_after_topup, credited_text, send
from shopbot.adapters.telegram.stars import TelegramStarsRefunder
from shopbot.bot.callbacks import (
    AdminCB,
    AdminSection,
    PaymentMethod,
    RefundCB,
    RefundKind,
    TopupMethodCB,
)
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import back_to_menu, button, record_menu, rows
from shopbot.bot.money_confirm import ask, confirm_markup
from shopbot.bot.rendering import money, who
from shopbot.bot.routers.admin_common import AdminStarsCB
from shopbot.bot.screens import show_after_money
from shopbot.bot.texts import Texts
from shopbot.config import Settings
from shopbot.domain.errors import InsufficientFunds, NotFound, OrderStateError
from shopbot.domain.ledger import admin_actor, user_account
from shopbot.domain.money import from_minor_units
from shopbot.domain.payments.stars import (
    STARS_CURRENCY,
    CheckoutRefused,
    StarPayment,
    StarRefundOutcome,
    StarRefundState,
    StarsPolicy,
    check_checkout,
    credit_star_payment,
    invoice_payload,
    refund_star_payment,
)
from shopbot.domain.users import User

log = logging.getLogger(__name__)
INVOICE_ONCE_SECONDS = 30
RECENT_PAYMENTS = 3


def stars_policy(settings: Settings) -> StarsPolicy:
    return StarsPolicy(
        currency=settings.shop_currency,
        minimum=settings.topup_min,
        maximum=settings.topup_max,
        stars_per_unit=settings.stars_per_unit,
    )


async def send_invoice(
    query: CallbackQuery,
    callback_data: TopupMethodCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
) -> None:
    amount = from_minor_units(callback_data.amount_cents)
    payload = invoice_payload(
        stars_policy(ctx.settings),
        user_id=user.id,
        amount=amount,
        product_id=callback_data.product_id or None,
    )
    anchor = query.message.message_id if query.message is not None else query.id
    # A double tap sends one invoice (paying twice would still credit twice: each
    # payment is real money, but nobody should be offered the same invoice twice).
    first = await ctx.coordination.set_if_absent(
        f"shopbot:stars-invoice:{user.id}:{anchor}:{callback_data.pack()}",
        "1",
        INVOICE_ONCE_SECONDS,
    )
    await query.answer()
    if not first:
        return
    shown = {"amount": money(payload.amount), "currency": ctx.currency}
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t("stars.sent", stars=payload.stars, **shown), reply_markup=back_to_menu(t)
        )
    await bot.send_invoice(
        chat_id=user.id,
        title=t("stars.title"),
        description=t("stars.description", **shown),
        payload=payload.encode(),
        currency=STARS_CURRENCY,
        prices=[LabeledPrice(label=t("stars.label", **shown), amount=payload.stars)],
    )


async def pre_checkout(query: PreCheckoutQuery, t: Texts, ctx: BotContext) -> None:
    """Always answered: a refusal names its reason; a failure of ours refuses politely
    (an unanswered query makes the user wait 10 seconds for nothing)."""
    try:
        async with ctx.uows() as uow:
            await check_checkout(
                uow,
                stars_policy(ctx.settings),
                user_id=query.from_user.id,
                payload=query.invoice_payload,
                currency=query.currency,
                total_amount=query.total_amount,
            )
    except CheckoutRefused as refused:
        log.info("pre-checkout %s refused: %s", query.id, refused.reason)
        await _answer_checkout(query, t(f"stars.refused_{refused.reason}"))
        return
    except Exception:
        log.exception("pre-checkout %s could not be checked", query.id)
        await _answer_checkout(query, t("stars.refused_error"))
        return
    await _answer_checkout(query, None)


async def _answer_checkout(query: PreCheckoutQuery, refusal: str | None) -> None:
    """A redelivered query is too old to answer: that must not fail the update."""
    try:
        await query.answer(ok=refusal is None, error_message=refusal)
    except TelegramBadRequest as exc:
        log.warning("pre-checkout %s not answered: %s", query.id, exc.message)


async def successful_payment(
    message: Message, user: User, t: Texts, ctx: BotContext, bot: Bot
) -> None:
    paid = message.successful_payment
    assert paid is not None
    async with ctx.uows() as uow:
        credit = await credit_star_payment(
            uow,
            stars_policy(ctx.settings),
            user_id=user.id,
            charge_id=paid.telegram_payment_charge_id,
            payload=paid.invoice_payload,
            currency=paid.currency,
            total_amount=paid.total_amount,
        )
        await uow.commit()
        balance = await uow.ledger.balance(user_account(user.id))
    payment = credit.payment
    log.info(
        "Stars payment %s of user %s: %s",
        payment.id,
        user.id,
        "credited" if credit.created else "seen before",
    )
    if credit.created:
        text = credited_text(t, amount=payment.amount, balance=balance, currency=ctx.currency)
    else:
        text = t("stars.already")
    # The money is credited and committed: a failure to message must not fail the update.
    await send(bot, user.id, text, None if payment.product_id else record_menu(t))
    if payment.product_id is not None:
        # Idempotent (request key after-topup:<charge id>): a redelivered update that
        # finds the order bought shows it again and buys nothing.
        await complete_purchase_after_topup(
            bot, ctx, user, product_id=payment.product_id, payment_ref=payment.charge_id
        )


async def refunded_payment(message: Message, ctx: BotContext) -> None:
    """Telegram's service message about a refund. Refunds the shop made are already
    settled; any other (e.g. one made outside the bot) is logged for the operators."""
    refunded = message.refunded_payment
    assert refunded is not None
    async with ctx.uows() as uow:
        payment = await uow.stars.get_by_charge_id(refunded.telegram_payment_charge_id)
    if payment is None or payment.refund_state is not StarRefundState.REFUNDED:
        log.warning(
            "Stars charge %s was refunded outside the shop (payment %s); settle the balance "
            "by hand",
            refunded.telegram_payment_charge_id,
            payment.id if payment else None,
        )


# --- /paysupport ----------------------------------------------------------------------


def support_chat(ctx: BotContext) -> int | None:
    settings = ctx.settings
    if settings.support_chat_id is not None:
        return settings.support_chat_id
    return settings.admin_ids[0] if settings.admin_ids else None


async def paysupport(message: Message, user: User, t: Texts, ctx: BotContext, bot: Bot) -> None:
    """Telegram's payment rules: a bot that takes payments answers /paysupport. The
    support chat gets a note with the user's balance and recent Stars payments (with
    refund buttons for admins)."""
    text = t("paysupport.text", user_id=user.id)
    if await _note_to_support(user, ctx, bot):
        text = f"{text}\n\n{t('paysupport.forwarded')}"
    await message.answer(text, reply_markup=back_to_menu(t))


async def _note_to_support(user: User, ctx: BotContext, bot: Bot) -> bool:
    target = support_chat(ctx)
    if target is None:
        return False
    async with ctx.uows() as uow:
        balance = await uow.ledger.balance(user_account(user.id))
        payments = await uow.stars.list_for_user(user.id, RECENT_PAYMENTS)
        admin = await uow.users.get(target)
    staff = Texts(admin.language if admin is not None else "en")
    listed = ", ".join(_payment_line(p) for p in payments) or staff("paysupport.no_payments")
    note = staff(
        "paysupport.note",
        who=who(staff, user.id, user),
        balance=money(balance),
        currency=ctx.currency,
        payments=listed,
    )
    refundable = [p for p in payments if p.refund_state is StarRefundState.NONE]
    markup = rows(
        *(
            [button(f"↩️ #{p.id} · {p.stars} ⭐", RefundCB(kind=RefundKind.STARS, ref=p.id))]
            for p in refundable
        )
    )
    return await send(bot, target, note, markup if refundable else None)


def _payment_line(payment: StarPayment) -> str:
    day = payment.created_at.strftime("%Y-%m-%d")
    return f"#{payment.id} {payment.stars}⭐={money(payment.amount)} {day} {payment.refund_state}"


# --- admins: refunds of Stars payments ------------------------------------------------


async def refund_ask(
    query: CallbackQuery,
    callback_data: RefundCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
    state: FSMContext,
) -> None:
    """Asks first: the button sits on a lookup screen, one tap must not move money."""
    if not ctx.is_admin(user.id):
        await query.answer(t("payment_refund.admins_only"), show_alert=True)
        return
    async with ctx.uows() as uow:
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
    """Run a confirmed Stars refund (admin_money checks the admin and the nonce) and
    report it with amounts, currency and the next step."""
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
    """The admin's result screen; it may follow a ledger transaction, so it never raises."""
    await show_after_money(query, text, markup)


def build() -> Router:
    router = Router(name="stars")
    router.callback_query.register(
        send_invoice, TopupMethodCB.filter(F.method == PaymentMethod.STARS)
    )
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    router.message.register(paysupport, Command("paysupport"))
    router.callback_query.register(refund_ask, RefundCB.filter(F.kind == RefundKind.STARS))
    return router
