"""Payment notifications: "balance topped up by X", then the purchase the customer was
topping up for, delivered in the same chat.

`TelegramPaymentNotifier` implements the domain's `PaymentNotifier` port for the webhook
service and `shopbot payments reconcile` (built by `shopbot.composition`): it runs after
the payment is committed, so a failure to message anyone is logged and never raised. The
bot's own handlers (Stars, "Check payment") call `announce_payment` and
`complete_purchase_after_topup` directly, so every credited payment reads the same.
"""

import logging
from decimal import Decimal

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup

from shopbot.bot.callbacks import TopupCB
from shopbot.bot.context import BotContext
from shopbot.bot.delivery import delivery_kind, send_delivery
from shopbot.bot.failures import retrying
from shopbot.bot.keyboards import button, record_menu
from shopbot.bot.notifications import announce_manual_order
from shopbot.bot.rendering import money
from shopbot.bot.texts import Texts
from shopbot.domain.ledger import user_account
from shopbot.domain.money import to_minor_units
from shopbot.domain.payments.after_topup import (
    AfterTopupResult,
    AfterTopupStatus,
    buy_after_topup,
)
from shopbot.domain.payments.events import EventResult
from shopbot.domain.payments.models import RefundState
from shopbot.domain.users import User
from shopbot.observability.metrics import DELIVERIES, ORDERS

log = logging.getLogger(__name__)


async def send(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Send, retrying 429/5xx (`failures.retrying`) and logging (not raising) what still
    fails: the payment is durable already. False when the message was not sent."""
    try:
        await retrying(lambda: bot.send_message(chat_id, text, reply_markup=markup))
    except TelegramAPIError as exc:
        log.warning("could not message %s: %s", chat_id, exc)
        return False
    return True


def credited_text(
    t: Texts,
    *,
    amount: Decimal,
    balance: Decimal,
    currency: str,
    expected: Decimal | None = None,
) -> str:
    """The "topped up" message. With `expected` (the invoice's amount) a payment that
    differs from it is explained: less (what arrived of what was asked) or more (all of
    it was credited)."""
    text = t("topup.credited", amount=money(amount), balance=money(balance), currency=currency)
    if expected is None or amount == expected:
        return text
    key = "topup.underpaid" if amount < expected else "money_customer.overpaid"
    explained = t(key, amount=money(amount), expected=money(expected), currency=currency)
    return f"{text}\n\n{explained}"


def top_up_rest(
    t: Texts, missing: Decimal, currency: str, *, product_id: int = 0
) -> InlineKeyboardMarkup:
    """ "Top up the rest (X)" for exactly `missing` (the top-up screen raises it to the
    smallest top-up) — then buying `product_id`, if given — and Menu; both open their
    screen below the pressed message, which records a payment."""
    label = t("money_customer.top_up_rest", missing=money(missing), currency=currency)
    rest = TopupCB(amount_cents=to_minor_units(missing), product_id=product_id, keep=True)
    return record_menu(t, [button(label, rest)])


async def remove_invoice_buttons(
    bot: Bot, ctx: BotContext, invoice_id: int, *, replaced: tuple[int, int] | None = None
) -> None:
    """Take the Pay/Check buttons off the message that showed the invoice, once it is
    paid; its text stays as the record. `replaced` is a (chat id, message id) the caller
    is rewriting itself (the pressed "Check payment"), so it is left alone. Telegram's
    refusals (the message was deleted, ...) are logged, not raised."""
    # Autocommit: a read and a conditional UPDATE, each committed at once (the UPDATE
    # re-checks the message under its row lock, so one of two concurrent takers wins).
    async with ctx.uows.autocommit() as uow:
        shown = await uow.topups.take_shown_message(invoice_id)
    if shown is not None and shown != replaced:
        await _edit_off_buttons(bot, invoice_id, shown)


async def _remove_shown_buttons(
    bot: Bot, ctx: BotContext, invoice_id: int, shown: tuple[int, int]
) -> None:
    """`remove_invoice_buttons` for a message the caller has read already."""
    async with ctx.uows.autocommit() as uow:
        taken = await uow.topups.forget_shown_message(invoice_id, shown)
    if taken:  # else another taker (the pressed "Check payment") has it
        await _edit_off_buttons(bot, invoice_id, shown)


async def _edit_off_buttons(bot: Bot, invoice_id: int, shown: tuple[int, int]) -> None:
    chat_id, message_id = shown
    try:
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )
    except TelegramAPIError as exc:
        log.warning("could not remove the buttons of invoice %s: %s", invoice_id, exc)


async def complete_purchase_after_topup(
    bot: Bot, ctx: BotContext, user: User, *, product_id: int, payment_ref: str
) -> AfterTopupResult:
    """Buy the product the payment was for (once per `payment_ref`) and deliver it, or
    tell the user why not; the money stays on the balance then."""
    result = await buy_after_topup(
        ctx.uows, user_id=user.id, product_id=product_id, payment_ref=payment_ref
    )
    t = Texts(user.language)
    if result.order is not None and result.product is not None:
        order, product = result.order, result.product
        # The admins first, also on a rerun (ALREADY) whose first run stopped before
        # telling them: announce_manual_order tells them once per order.
        await announce_manual_order(bot, ctx, order, product, user)
        heading = t("after_topup.heading")
        if result.status is AfterTopupStatus.BOUGHT:  # not a rerun's
            ORDERS.labels("completed").inc()
        kind = delivery_kind(t, order, product, heading=heading)
        try:
            await retrying(
                lambda: send_delivery(
                    bot, user.id, t, order, product, record_menu(t), heading=heading
                )
            )
        except TelegramAPIError as exc:  # the order stays in My orders
            DELIVERIES.labels(kind, "failed").inc()
            log.warning("could not deliver order %s: %s", order.id, exc)
        else:
            DELIVERIES.labels(kind, "ok").inc()
        return result
    ORDERS.labels("refused").inc()
    title = result.product.title.get(t.language) if result.product else f"#{product_id}"
    key = {
        AfterTopupStatus.SOLD_OUT: "after_topup.sold_out",
        AfterTopupStatus.INSUFFICIENT: "after_topup.insufficient",
        AfterTopupStatus.BLOCKED: "after_topup.blocked",
    }.get(result.status, "after_topup.unavailable")
    if result.product is None:  # nothing to top up for: it is gone
        key = "after_topup.unavailable"
    balance = result.balance or Decimal(0)
    shown = {"title": title, "balance": money(balance), "currency": ctx.currency}
    markup = record_menu(t)
    if result.status is AfterTopupStatus.INSUFFICIENT and result.product is not None:
        missing = result.product.price - balance
        shown["missing"] = money(missing)
        markup = top_up_rest(t, missing, ctx.currency, product_id=product_id)
    await send(bot, user.id, t(key, **shown), markup)
    return result


async def announce_payment(bot: Bot, ctx: BotContext, result: EventResult) -> None:
    """Tell the invoice's owner what a Heleket event did for them; after a credit, run
    the purchase they were topping up for."""
    invoice = result.invoice
    if invoice is None or (result.credited is None and result.refund is None):
        return
    # One read, in autocommit: no BEGIN and ROLLBACK around it.
    async with ctx.uows.autocommit() as uow:
        owner = await uow.topups.owner(invoice.id, user_account(invoice.user_id))
    if owner is None:
        return
    user, balance, product_id = owner.user, owner.balance, owner.then_buy_product_id
    t = Texts(user.language)
    if result.credited is None:
        amount = money(invoice.refund_amount or Decimal(0))
        key = "topup.refund_paid" if result.refund is RefundState.PAID else "topup.refund_failed"
        await send(bot, user.id, t(key, amount=amount, currency=invoice.currency), record_menu(t))
        return
    if owner.shown_message is not None:
        await _remove_shown_buttons(bot, ctx, invoice.id, owner.shown_message)
    text = credited_text(
        t,
        amount=result.credited,
        balance=balance,
        currency=invoice.currency,
        expected=invoice.amount,
    )
    if product_id is not None:
        # The purchase's own message follows, with its next step (top up the rest, ...).
        markup = None
    elif result.credited < invoice.amount:
        markup = top_up_rest(t, invoice.amount - result.credited, invoice.currency)
    else:
        markup = record_menu(t)
    await send(bot, user.id, text, markup)
    if product_id is not None:
        await complete_purchase_after_topup(
            bot, ctx, user, product_id=product_id, payment_ref=invoice.order_id
        )


class TelegramPaymentNotifier:
    """The domain's `PaymentNotifier` on Telegram: messages users about Heleket events.
    `bot` and `ctx` belong to the process that built it (its engine, its admins); it
    closes nothing."""

    def __init__(self, bot: Bot, ctx: BotContext) -> None:
        self.bot = bot
        self.ctx = ctx

    async def __call__(self, result: EventResult) -> None:
        try:
            await announce_payment(self.bot, self.ctx, result)
        except Exception:  # the payment is durable; a lost notice must not fail anything
            uuid = result.invoice.uuid if result.invoice else None
            log.exception("payment notification for %s failed", uuid)
