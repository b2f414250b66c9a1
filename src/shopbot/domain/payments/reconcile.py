"""Reconciliation: ask Heleket about invoices still open, so a lost webhook never loses
money. Answers go through the same idempotent path as webhooks."""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopbot.domain.payments.events import EventResult, Outcome, handle_payment_event
from shopbot.domain.payments.gateway import (
    GatewayError,
    GatewayInvoice,
    GatewayRejected,
    PaymentGateway,
)
from shopbot.domain.payments.models import InvoiceState, PaymentEvent, TopupInvoice
from shopbot.domain.payments.notifier import PaymentNotifier
from shopbot.domain.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def event_from_invoice(invoice: GatewayInvoice, source: str = "reconcile") -> PaymentEvent:
    return PaymentEvent(
        uuid=invoice.uuid,
        status=invoice.status,
        order_id=invoice.order_id,
        amount=invoice.amount,
        currency=invoice.currency,
        payment_amount=invoice.payment_amount,
        payment_amount_usd=invoice.payment_amount_usd,
        payer_amount=invoice.payer_amount,
        payer_currency=invoice.payer_currency,
        is_final=invoice.is_final,
        kind="payment",
        source=source,
        body=json.dumps(dict(invoice.raw), ensure_ascii=False, default=str),
    )


async def reconcile(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    *,
    now: datetime,
    older_than: timedelta = timedelta(minutes=5),
    limit: int = 200,
    on_applied: PaymentNotifier | None = None,
) -> ReconcileReport:
    """Takes a unit-of-work factory: commits around the network call to Heleket (payment info),
    one transaction per invoice after its answer."""
    report = ReconcileReport()
    async with uow_factory() as uow:
        invoices = await uow.topups.needing_reconciliation(
            created_before=now - older_than, limit=limit
        )
    for invoice in invoices:
        report.checked += 1
        try:
            outcome = await _reconcile_one(uow_factory, gateway, invoice, now, on_applied)
        except GatewayError as exc:
            report.errors += 1
            log.warning("reconcile %s: %s", invoice.order_id, exc)
            continue
        report.count(outcome)
    return report


async def check_invoice(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    invoice: TopupInvoice,
    source: str = "reconcile",
) -> EventResult:
    """Ask Heleket about the invoice now (by uuid once known, else by order id) and apply
    its answer exactly as a webhook. Raises GatewayRejected if Heleket does not know it.

    Takes a unit-of-work factory: commits around the network call to Heleket (payment info): its
    answer is applied and committed in a transaction opened after it."""
    if invoice.uuid is not None:
        remote = await gateway.payment_info(uuid=invoice.uuid)
    else:
        remote = await gateway.payment_info(order_id=invoice.order_id)
    async with uow_factory() as uow:
        if invoice.uuid is None:
            await uow.topups.attach_gateway(
                invoice.id,
                uuid=remote.uuid,
                url=remote.url,
                expires_at=remote.expired_at,
                status=remote.status,
            )
        result = await handle_payment_event(uow, event_from_invoice(remote, source))
        await uow.commit()
    return result


async def _reconcile_one(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    invoice: TopupInvoice,
    now: datetime,
    on_applied: PaymentNotifier | None,
) -> str:
    try:
        result = await check_invoice(uow_factory, gateway, invoice)
    except GatewayRejected:
        if invoice.uuid is None and invoice.created_at < now - timedelta(days=1):
            # Creation never reached Heleket: nothing can be paid on it.
            async with uow_factory() as uow:
                await uow.topups.transition(
                    invoice.id,
                    allowed=frozenset({InvoiceState.PENDING}),
                    to=InvoiceState.CLOSED,
                    note="never created at Heleket",
                )
                await uow.commit()
            return "closed"
        raise
    if on_applied is not None and result.outcome is Outcome.APPLIED:
        try:
            await on_applied(result)
        except Exception:  # the payment is durable; a lost notice must not fail the run
            log.exception("notification for %s failed", invoice.order_id)
    return result.outcome.value if result.outcome is not Outcome.DUPLICATE else "unchanged"
