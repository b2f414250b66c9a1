"""Top up: a preset or typed amount → the payment method → a Heleket invoice (a Pay
button opening its page, and "Check payment", which asks Heleket and applies the answer
through the same idempotent path as webhooks) or a Telegram Stars invoice (stars.py).

An amount chosen from the catalog's "top up the missing amount" carries the product,
which is then bought by itself once the payment is credited. Admins' refunds of Heleket
top-ups are in the admin area (admin_refund_heleket); only the wallet question's Cancel
(`TopupCancelCB(what="refund")`) is answered here.
"""

import logging
from datetime import UTC, datetime
from decimal import Decimal

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from shopbot.bot.amounts import amount_refusal
from shopbot.bot.callbacks import (
    CheckPaymentCB,
    MenuCB,
    MenuTarget,
    PaymentMethod,
    TopupCB,
    TopupMethodCB,
)
from shopbot.bot.context import BotContext
from shopbot.bot.keyboards import back_to_menu, button, main_menu, record_menu, rows
from shopbot.bot.payment_notices import (
    announce_payment,
    remove_invoice_buttons,
    top_up_rest,
)
from shopbot.bot.rate_limits.limiter import Category
from shopbot.bot.rate_limits.notice import tell_limited
from shopbot.bot.rendering import money
from shopbot.bot.screens import show
from shopbot.bot.texts import Texts
from shopbot.domain import idempotency_keys
from shopbot.domain.errors import InvalidAmount, ProductUnavailable
from shopbot.domain.money import from_minor_units, parse_amount, to_minor_units
from shopbot.domain.payments.events import EventResult
from shopbot.domain.payments.gateway import GatewayError, GatewayRejected
from shopbot.domain.payments.models import InvoiceState, TopupInvoice
from shopbot.domain.payments.reconcile import check_invoice
from shopbot.domain.payments.topups import TopupPolicy, create_topup
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User
from shopbot.observability.metrics.payments import count_created, count_settled

log = logging.getLogger(__name__)
PRESETS = (Decimal(5), Decimal(10), Decimal(25), Decimal(50))
MAX_REQUEST_ATTEMPTS = 20


class TopupStates(StatesGroup):
    amount = State()
    """Waiting for a typed amount; data: product_id."""
    """An admin is asked for a payer's wallet; data: invoice_id."""


class TopupCancelCB(CallbackData, prefix="tpx"):
    """Leave the amount or wallet question."""

    what: str = "topup"


def heleket_policy(ctx: BotContext) -> TopupPolicy | None:
    """None when crypto top-ups are off (no gateway, or no public URL for webhooks)."""
    return ctx.topup_policy


def limits(ctx: BotContext) -> dict[str, str]:
    settings = ctx.settings
    return {
        "minimum": money(settings.topup_min),
        "maximum": money(settings.topup_max),
        "currency": ctx.currency,
    }


# --- amounts --------------------------------------------------------------------------


async def menu(
    query: CallbackQuery, callback_data: MenuCB, t: Texts, ctx: BotContext, state: FSMContext
) -> None:
    await state.clear()
    low, high = ctx.settings.topup_min, ctx.settings.topup_max
    presets = [amount for amount in PRESETS if low <= amount <= high] or [low]
    buttons = [
        button(
            t("topup.preset", amount=money(a), currency=ctx.currency),
            TopupCB(amount_cents=to_minor_units(a)),
        )
        for a in presets
    ]
    markup = rows(
        buttons[:2],
        buttons[2:],
        [button(t("topup.custom"), TopupCB(amount_cents=0))],
        [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))],
    )
    await show(query, t("topup.menu", **limits(ctx)), markup, keep=callback_data.keep)


def cancel_keyboard(t: Texts, what: str = "topup") -> InlineKeyboardMarkup:
    return rows([button(t("common.cancel"), TopupCancelCB(what=what))])


async def amount_chosen(
    query: CallbackQuery,
    callback_data: TopupCB,
    t: Texts,
    ctx: BotContext,
    state: FSMContext,
    uow: UnitOfWork,
) -> None:
    product_id, keep = callback_data.product_id, callback_data.keep
    if callback_data.amount_cents <= 0:
        await state.set_state(TopupStates.amount)
        await state.update_data(product_id=product_id)
        await show(query, t("topup.ask_amount", **limits(ctx)), cancel_keyboard(t), keep=keep)
        return
    amount = from_minor_units(callback_data.amount_cents)
    low, high = ctx.settings.topup_min, ctx.settings.topup_max
    note: str | None = None
    if amount < low:
        # Presets are never below the minimum: this is a missing amount ("top up the
        # rest"), raised to the smallest top-up; the difference stays on the balance.
        key = "topup.raised_to_minimum" if product_id else "money_customer.raised_to_minimum"
        amount, note = low, t(key, **limits(ctx))
    if amount > high:
        key = "topup.too_large" if product_id else "topup.out_of_range"
        await show(query, t(key, **limits(ctx)), back_to_menu(t), keep=keep)
        return
    await show(query, *await methods(t, ctx, uow, amount, product_id, note), keep=keep)


async def amount_typed(
    message: Message, t: Texts, ctx: BotContext, state: FSMContext, uow: UnitOfWork
) -> None:
    try:
        amount = parse_amount(message.text or "")
    except InvalidAmount as refusal:
        await message.answer(
            amount_refusal(t, refusal, message.text or ""), reply_markup=cancel_keyboard(t)
        )
        return
    if not ctx.settings.topup_min <= amount <= ctx.settings.topup_max:
        await message.answer(
            t("topup.out_of_range", **limits(ctx)), reply_markup=cancel_keyboard(t)
        )
        return
    data = await state.get_data()
    await state.clear()
    text, markup = await methods(t, ctx, uow, amount, int(data.get("product_id") or 0), None)
    await message.answer(text, reply_markup=markup)


async def cancel(
    query: CallbackQuery, callback_data: TopupCancelCB, t: Texts, state: FSMContext
) -> None:
    await state.clear()
    key = "payment_refund.cancelled" if callback_data.what == "refund" else "topup.cancelled"
    await show(query, t(key), main_menu(t))


async def methods(
    t: Texts,
    ctx: BotContext,
    uow: UnitOfWork,
    amount: Decimal,
    product_id: int,
    note: str | None,
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("topup.choose_method", amount=money(amount), currency=ctx.currency)]
    if product_id:
        product = await uow.catalog.get_product_by_id(product_id)
        if product is None or not product.is_active:
            product_id = 0
        else:
            lines.append(t("topup.for_product", title=product.title.get(t.language)))
    if note:
        lines.append(note)
    choices = []
    data = {"amount_cents": to_minor_units(amount), "product_id": product_id}
    if heleket_policy(ctx) is not None:
        choices.append(
            [button(t("topup.method_heleket"), TopupMethodCB(method=PaymentMethod.HELEKET, **data))]
        )
    stars = ctx.stars_policy
    if stars.offers(amount):
        label = t("topup.method_stars", stars=stars.stars_for(amount))
        choices.append([button(label, TopupMethodCB(method=PaymentMethod.STARS, **data))])
    else:
        lines.append(
            t("topup.stars_too_large", maximum=money(stars.largest_amount), currency=ctx.currency)
        )
    if not choices:
        lines = [t("topup.no_methods")]
    back = [
        button(t("common.back"), MenuCB(to=MenuTarget.TOPUP)),
        button(t("common.menu"), MenuCB(to=MenuTarget.HOME)),
    ]
    return "\n\n".join(lines), rows(*choices, back)


# --- Heleket invoices -----------------------------------------------------------------


def _reusable(invoice: TopupInvoice, now: datetime) -> bool:
    """A pending invoice that can still be paid is shown again instead of a new one."""
    return invoice.state is InvoiceState.PENDING and (
        invoice.expires_at is None or invoice.expires_at > now
    )


async def _request_key(uow: UnitOfWork, base: str) -> str:
    """The top-up's request key, derived from the button pressed: a double tap (or a
    redelivered update) finds the same key and so the same invoice. Once that invoice is
    paid or expired, the same button makes the next one in a deterministic chain."""
    now = datetime.now(UTC)
    for attempt in range(1, MAX_REQUEST_ATTEMPTS + 1):
        key = base if attempt == 1 else idempotency_keys.next_request(base, attempt)
        found = await uow.topups.get_by_request_key(key)
        if found is None or _reusable(found, now):
            return key
    return idempotency_keys.next_request(base, f"{now.timestamp():.0f}")


def invoice_view(t: Texts, invoice: TopupInvoice) -> tuple[str, InlineKeyboardMarkup]:
    expires = (
        invoice.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if invoice.expires_at else "—"
    )
    amount = money(invoice.amount)
    text = t("topup.invoice", amount=amount, currency=invoice.currency, expires=expires)
    pay = (
        [
            InlineKeyboardButton(
                text=t("topup.pay", amount=amount, currency=invoice.currency), url=invoice.url
            )
        ]
        if invoice.url
        else []
    )
    markup = rows(
        pay,
        [button(t("topup.check"), CheckPaymentCB(invoice_id=invoice.id))],
        [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))],
    )
    return text, markup


async def pay_heleket(
    query: CallbackQuery,
    callback_data: TopupMethodCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
    uow: UnitOfWork,
) -> None:
    """Show a Heleket invoice for the amount. The invoice is made by `create_topup` with
    the factory `ctx.uows`: it commits around the network call to Heleket. The update's
    unit of work reads the request key before and records the shown message after.
    A payment attempt (RATE_LIMIT_PAYMENTS_PER_MINUTE) is counted before Heleket is
    called; a refused one is answered with the limit's notice."""
    policy = heleket_policy(ctx)
    if policy is None or ctx.gateway is None:
        await query.answer(t("topup.heleket_off"), show_alert=True)
        return
    limited = await ctx.rate_limiter.check(user.id, Category.PAYMENT)
    if limited is not None:
        await tell_limited(query, limited, t)
        return
    anchor = query.message.message_id if query.message is not None else query.id
    base = idempotency_keys.topup_request(
        user.id, anchor, callback_data.amount_cents, callback_data.product_id
    )
    request_key = await _request_key(uow, base)
    # No transaction stays open across the call to Heleket, and the reads after it see
    # what create_topup committed (a rollback also forgets the rows loaded so far).
    await uow.rollback()
    try:
        invoice = await create_topup(
            ctx.uows,
            ctx.gateway,
            policy,
            user_id=user.id,
            amount=from_minor_units(callback_data.amount_cents),
            request_key=request_key,
            then_buy_product_id=callback_data.product_id or None,
        )
    except GatewayError as exc:
        log.warning("heleket invoice for user %s failed: %s", user.id, exc)
        await show(query, t("topup.gateway_down"), back_to_menu(t))
        return
    except ProductUnavailable:
        await show(query, t("product.unavailable"), back_to_menu(t))
        return
    count_created("heleket")
    shown = await show(query, *invoice_view(t, invoice))
    if shown is not None:
        await _remember_message(bot, ctx, uow, invoice.id, shown)


async def _remember_message(
    bot: Bot, ctx: BotContext, uow: UnitOfWork, invoice_id: int, shown: Message
) -> None:
    """Record where the invoice's Pay/Check buttons are, for their removal once it is
    paid; if it was paid meanwhile (a fast webhook), remove them now."""
    await uow.topups.set_shown_message(invoice_id, shown.chat.id, shown.message_id)
    invoice = await uow.topups.get(invoice_id)
    await uow.commit()  # the row lock of the update ends before Telegram is called
    if invoice is not None and invoice.state is not InvoiceState.PENDING:
        await remove_invoice_buttons(bot, ctx, invoice_id)


async def _ask_heleket(ctx: BotContext, invoice: TopupInvoice) -> EventResult | None:
    """Ask Heleket about the invoice now and apply the answer like a webhook."""
    assert ctx.gateway is not None
    try:
        result = await check_invoice(ctx.uows, ctx.gateway, invoice, source="check")
    except GatewayRejected:  # Heleket does not know it (yet): nothing to apply
        return None
    count_settled(result)
    return result


async def check_payment(
    query: CallbackQuery,
    callback_data: CheckPaymentCB,
    user: User,
    t: Texts,
    ctx: BotContext,
    bot: Bot,
    uow: UnitOfWork,
) -> None:
    """Ask Heleket about the invoice (`check_invoice` takes the factory `ctx.uows`: it
    commits around the network call) and show what it says."""
    invoice = await uow.topups.get(callback_data.invoice_id)
    if invoice is None or invoice.user_id != user.id:  # the button is the payer's only
        await query.answer(t("topup.invoice_missing"), show_alert=True)
        return
    result: EventResult | None = None
    if invoice.state is InvoiceState.PENDING and ctx.gateway is not None:
        # No transaction stays open across the call to Heleket, and the re-read below
        # sees what the check committed (a rollback also forgets the rows loaded so far).
        await uow.rollback()
        try:
            result = await _ask_heleket(ctx, invoice)
        except GatewayError as exc:
            log.warning("check of %s failed: %s", invoice.order_id, exc)
            await query.answer(t("topup.gateway_down"), show_alert=True)
            return
        invoice = await uow.topups.get(invoice.id) or invoice
    if invoice.state is InvoiceState.PENDING:
        await query.answer(t("topup.status_pending"), show_alert=True)
        return
    # The pressed message is rewritten below; another one still showing the invoice's
    # Pay/Check buttons loses them.
    pressed = query.message
    replaced = (pressed.chat.id, pressed.message_id) if pressed is not None else None
    await remove_invoice_buttons(bot, ctx, invoice.id, replaced=replaced)
    if result is not None and result.credited is not None:
        # This check credited the payment (the webhook was lost): the same notice and
        # purchase-after-top-up as the webhook service sends; before the screen edit
        # below, so a failing edit cannot lose the purchase (it never raises).
        await announce_payment(bot, ctx, result)
    if invoice.state is InvoiceState.CREDITED:
        product_id = await uow.topups.then_buy_product_id(invoice.id)
        await show(query, *credited_view(t, invoice, product_id=product_id or 0))
    elif invoice.state is InvoiceState.CLOSED:
        again = rows(
            [button(t("menu.topup"), MenuCB(to=MenuTarget.TOPUP))],
            [button(t("common.menu"), MenuCB(to=MenuTarget.HOME))],
        )
        await show(query, t("topup.status_closed"), again)
    else:
        await show(query, t("topup.status_quarantined"), back_to_menu(t))


def credited_view(
    t: Texts, invoice: TopupInvoice, *, product_id: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    """A credited invoice as "Check payment" shows it: paid exactly, more (what was
    credited), or less (what arrived of what was asked, with a button for the rest,
    which then buys `product_id`, the product the invoice was for, if any).

    The text is a receipt, so its buttons open their screen below it (`record_menu`,
    `TopupCB.keep`), the same as under the notifier's "topped up" message."""
    credited = invoice.credited_amount or invoice.amount
    shown = {"amount": money(credited), "currency": invoice.currency}
    if credited < invoice.amount:
        missing = invoice.amount - credited
        text = t("money_customer.status_underpaid", expected=money(invoice.amount), **shown)
        return text, top_up_rest(t, missing, invoice.currency, product_id=product_id)
    key = "money_customer.status_overpaid" if credited > invoice.amount else "topup.status_credited"
    return t(key, expected=money(invoice.amount), **shown), record_menu(t)


def build() -> Router:
    router = Router(name="topup")
    router.callback_query.register(menu, MenuCB.filter(F.to == MenuTarget.TOPUP))
    router.callback_query.register(amount_chosen, TopupCB.filter())
    router.callback_query.register(cancel, TopupCancelCB.filter())
    typed = F.text & ~F.text.startswith("/")
    router.message.register(amount_typed, TopupStates.amount, typed)
    router.callback_query.register(
        pay_heleket, TopupMethodCB.filter(F.method == PaymentMethod.HELEKET)
    )
    router.callback_query.register(check_payment, CheckPaymentCB.filter())
    return router
