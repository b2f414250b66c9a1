"""Telegram Stars: the invoice (XTR, one price, no provider token), the pre-checkout
answer (re-validated, always within Telegram's 10 seconds), the credit once per
`telegram_payment_charge_id`, and /paysupport (admins' refunds of Stars payments are in
the admin area: admin_refund_stars)."""

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from shopbot.bot.callbacks import (
    PaymentMethod,
    RefundCB,
    RefundKind,
    TopupMethodCB,
)
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import back_to_menu, button, record_menu, rows
from shopbot.bot.payment_notices import complete_purchase_after_topup, credited_text, send
from shopbot.bot.rate_limits.limiter import Category
from shopbot.bot.rate_limits.notice import tell_limited
from shopbot.bot.rendering import money, who
from shopbot.bot.texts import Texts
from shopbot.domain.ledger import user_account
from shopbot.domain.money import from_minor_units
from shopbot.domain.payments.stars import (
    STARS_CURRENCY,
    CheckoutRefused,
    StarPayment,
    StarRefundState,
    check_checkout,
    credit_star_payment,
    invoice_payload,
)
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User
from shopbot.observability.metrics.payments import count_created, count_paid

log = logging.getLogger(__name__)
INVOICE_ONCE_SECONDS = 30
RECENT_PAYMENTS = 3


async def send_invoice(
    query: CallbackQuery,
    callback_data: TopupMethodCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
) -> None:
    """Send a Stars invoice for the chosen amount (once per button and 30 s). A payment
    attempt (RATE_LIMIT_PAYMENTS_PER_MINUTE) is counted before anything is sent; a
    refused one is answered with the limit's notice."""
    limited = await ctx.rate_limiter.check(user.id, Category.PAYMENT)
    if limited is not None:
        await tell_limited(query, limited, t)
        return
    amount = from_minor_units(callback_data.amount_cents)
    payload = invoice_payload(
        ctx.stars_policy,
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
    count_created("stars")


async def pre_checkout(query: PreCheckoutQuery, t: Texts, ctx: BotContext, uow: UnitOfWork) -> None:
    """Always answered: a refusal names its reason; a failure of ours refuses politely
    (an unanswered query makes the user wait 10 seconds for nothing)."""
    try:
        await check_checkout(
            uow,
            ctx.stars_policy,
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
        # A failed transaction must not be committed after the answer, and a rollback
        # that fails too must not keep the answer from Telegram (it waits 10 seconds).
        with contextlib.suppress(Exception):
            await uow.rollback()
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
    message: Message, user: User, t: Texts, ctx: BotContext, bot: Bot, uow: UnitOfWork
) -> None:
    """Credit the payment in the update's unit of work and commit before the payer is
    told. The purchase after the top-up (`complete_purchase_after_topup`) takes the
    factory `ctx.uows`: it buys in its own transaction and then messages the buyer."""
    paid = message.successful_payment
    assert paid is not None
    credit = await credit_star_payment(
        uow,
        ctx.stars_policy,
        user_id=user.id,
        charge_id=paid.telegram_payment_charge_id,
        payload=paid.invoice_payload,
        currency=paid.currency,
        total_amount=paid.total_amount,
    )
    await uow.commit()  # money first, then the message
    balance = await uow.ledger.balance(user_account(user.id))
    payment = credit.payment
    log.info(
        "Stars payment %s of user %s: %s",
        payment.id,
        user.id,
        "credited" if credit.created else "seen before",
    )
    if credit.created:
        count_paid("stars", ctx.currency, payment.amount)
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


async def refunded_payment(message: Message, uow: UnitOfWork) -> None:
    """Telegram's service message about a refund. Refunds the shop made are already
    settled; any other (e.g. one made outside the bot) is logged for the operators."""
    refunded = message.refunded_payment
    assert refunded is not None
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


async def paysupport(
    message: Message, user: User, t: Texts, ctx: BotContext, bot: Bot, uow: UnitOfWork
) -> None:
    """Telegram's payment rules: a bot that takes payments answers /paysupport. The
    support chat gets a note with the user's balance and recent Stars payments (with
    refund buttons for admins)."""
    text = t("paysupport.text", user_id=user.id)
    if await _note_to_support(user, ctx, uow, bot):
        text = f"{text}\n\n{t('paysupport.forwarded')}"
    await message.answer(text, reply_markup=back_to_menu(t))


async def _note_to_support(user: User, ctx: BotContext, uow: UnitOfWork, bot: Bot) -> bool:
    target = support_chat(ctx)
    if target is None:
        return False
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


def build() -> Router:
    router = Router(name="stars")
    router.callback_query.register(
        send_invoice, TopupMethodCB.filter(F.method == PaymentMethod.STARS)
    )
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    router.message.register(paysupport, Command("paysupport"))
    return router
