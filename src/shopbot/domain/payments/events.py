"""Applying Heleket status reports (webhooks and reconciliation polls) exactly once.

Policy (docs/payments.md): `paid` credits the invoice amount; `paid_over` and
`wrong_amount` credit what actually arrived, converted to the shop currency; waiting
statuses only update the invoice; cancel/fail/system_fail close it; refund statuses
settle a refund the shop requested. A report whose order, amount or currency does not
match the stored invoice is quarantined for an operator and credits nothing.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shopbot.domain import idempotency_keys
from shopbot.domain.ledger import (
    LedgerTransaction,
    SystemAccount,
    TransactionKind,
    transfer,
    user_account,
)
from shopbot.domain.payments.conversion import received_value
from shopbot.domain.payments.models import (
    CLOSING,
    CREDITING,
    GatewayStatus,
    InvoiceState,
    PaymentEvent,
    RefundState,
    TopupInvoice,
)
from shopbot.domain.uow import UnitOfWork

CREDITABLE = frozenset({InvoiceState.PENDING, InvoiceState.CLOSED})
"""A late payment on an invoice we closed is still real money: it is credited."""


class Outcome(StrEnum):
    DUPLICATE = "duplicate"
    APPLIED = "applied"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class EventResult:
    outcome: Outcome
    invoice: TopupInvoice | None = None
    credited: Decimal | None = None
    """Money credited to the user by this event (for the payment notification)."""
    underpaid: bool = False
    refund: RefundState | None = None
    note: str | None = None


async def handle_payment_event(uow: UnitOfWork, event: PaymentEvent) -> EventResult:
    """Runs inside the caller's unit of work; does not commit."""
    event_id = await uow.topups.record_event(event)
    if event_id is None:
        return EventResult(Outcome.DUPLICATE)
    result, transaction = await _apply(uow, event)
    await uow.topups.set_event_outcome(event_id, result.outcome.value, result.note)
    if transaction is not None:
        # Money moves last: the shared provider account row stays locked only from this
        # statement to the commit.
        await uow.ledger.post(transaction)
    return result


Decision = tuple[EventResult, LedgerTransaction | None]
"""What an event does to the invoice, and the ledger transaction it calls for, if any."""


async def _apply(uow: UnitOfWork, event: PaymentEvent) -> Decision:
    if event.kind == "payout":  # the shop makes no payouts; refunds report as payments
        return EventResult(Outcome.IGNORED, note="payout report: the shop makes no payouts"), None
    invoice = await uow.topups.get_by_uuid(event.uuid)
    if invoice is None and event.order_id:
        invoice = await uow.topups.get_by_order_id(event.order_id)
    if invoice is None:
        return EventResult(Outcome.QUARANTINED, note="no invoice with this uuid or order_id"), None
    mismatch = _mismatch(invoice, event)
    if mismatch:
        quarantined = await uow.topups.transition(
            invoice.id,
            allowed=frozenset(InvoiceState) - {InvoiceState.CREDITED},
            to=InvoiceState.QUARANTINED,
            note=mismatch,
        )
        return EventResult(Outcome.QUARANTINED, quarantined or invoice, note=mismatch), None
    try:
        status = GatewayStatus(event.status)
    except ValueError:
        await uow.topups.set_gateway_status(invoice.id, event.status)
        return EventResult(Outcome.IGNORED, invoice, note=f"unknown status {event.status!r}"), None
    if status in CREDITING:
        return await _credit(uow, invoice, event, status)
    if status in (GatewayStatus.REFUND_PAID, GatewayStatus.REFUND_FAIL):
        return await _settle_refund(uow, invoice, status)
    # Whatever the invoice's state, the status only moves forward (models.STATUS_RANK):
    # a late `check` after `paid`, or `cancel` after a credit, changes nothing.
    await uow.topups.set_gateway_status(invoice.id, status.value)
    if status in CLOSING:
        closed = await uow.topups.transition(
            invoice.id, allowed=frozenset({InvoiceState.PENDING}), to=InvoiceState.CLOSED
        )
        if closed is not None:
            return EventResult(Outcome.APPLIED, closed), None
        return EventResult(Outcome.IGNORED, invoice, note=f"invoice is {invoice.state}"), None
    return EventResult(Outcome.APPLIED, invoice), None


def _mismatch(invoice: TopupInvoice, event: PaymentEvent) -> str | None:
    if invoice.uuid is not None and event.uuid != invoice.uuid:
        return f"uuid {event.uuid} differs from the invoice's {invoice.uuid}"
    if event.order_id is not None and event.order_id != invoice.order_id:
        return f"order_id {event.order_id!r} differs from the invoice's {invoice.order_id!r}"
    if event.currency is not None and event.currency != invoice.currency:
        return f"currency {event.currency} differs from the invoice's {invoice.currency}"
    if event.amount is not None and event.amount != invoice.amount:
        return f"amount {event.amount} differs from the invoice's {invoice.amount}"
    return None


async def _credit(
    uow: UnitOfWork, invoice: TopupInvoice, event: PaymentEvent, status: GatewayStatus
) -> Decision:
    if invoice.state not in CREDITABLE:
        return EventResult(
            Outcome.IGNORED, invoice, note=f"invoice is already {invoice.state}"
        ), None
    if status is GatewayStatus.PAID:
        value: Decimal | None = invoice.amount
    else:
        value = received_value(event, invoice.amount, invoice.currency)
    if value is None or value <= 0:
        unknown = f"{status}: cannot tell how much arrived in {invoice.currency}"
        quarantined = await uow.topups.transition(
            invoice.id, allowed=CREDITABLE, to=InvoiceState.QUARANTINED, note=unknown
        )
        return EventResult(Outcome.QUARANTINED, quarantined or invoice, note=unknown), None
    underpaid = status is GatewayStatus.WRONG_AMOUNT
    note = (
        f"underpaid: {value} of {invoice.amount} {invoice.currency} arrived" if underpaid else None
    )
    credited = await uow.topups.transition(
        invoice.id,
        allowed=CREDITABLE,
        to=InvoiceState.CREDITED,
        credited_amount=value,
        note=note,
        gateway_status=status.value,
    )
    if credited is None:  # a concurrent report credited it first
        return EventResult(Outcome.IGNORED, invoice, note="credited concurrently"), None
    transaction = transfer(
        idempotency_keys.heleket_credit(invoice.uuid or event.uuid),
        TransactionKind.TOPUP,
        source=SystemAccount.HELEKET,
        destination=user_account(invoice.user_id),
        amount=value,
        memo=f"Heleket {status} {invoice.order_id}",
    )
    result = EventResult(Outcome.APPLIED, credited, credited=value, underpaid=underpaid, note=note)
    return result, transaction


async def _settle_refund(uow: UnitOfWork, invoice: TopupInvoice, status: GatewayStatus) -> Decision:
    paid = status is GatewayStatus.REFUND_PAID
    target = RefundState.PAID if paid else RefundState.FAILED
    settled = await uow.topups.set_refund(
        invoice.id, allowed=frozenset({RefundState.REQUESTED}), to=target
    )
    if settled is None or settled.refund_amount is None:
        note = f"{status} without a refund requested through the shop"
        return EventResult(Outcome.QUARANTINED, invoice, note=note), None
    await uow.topups.set_gateway_status(invoice.id, status.value)
    amount = settled.refund_amount
    if paid:  # the held money has left for the payer's wallet
        transaction = transfer(
            idempotency_keys.heleket_refund_paid(invoice.uuid),
            TransactionKind.PROVIDER_REFUND,
            source=SystemAccount.HELEKET_REFUNDS,
            destination=SystemAccount.HELEKET,
            amount=amount,
            memo=f"Heleket refund of {invoice.order_id} paid",
        )
    else:  # the hold goes back to the user's balance
        transaction = transfer(
            idempotency_keys.heleket_refund_release(invoice.uuid),
            TransactionKind.PROVIDER_REFUND,
            source=SystemAccount.HELEKET_REFUNDS,
            destination=user_account(invoice.user_id),
            amount=amount,
            memo=f"Heleket refund of {invoice.order_id} failed; balance restored",
        )
    return EventResult(Outcome.APPLIED, settled, refund=target), transaction
