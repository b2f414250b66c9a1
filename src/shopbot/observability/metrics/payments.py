"""Counting payments where they happen: an invoice made, an event applied (by Heleket's
webhook, by reconciliation or by the customer's "check payment" button)."""

from decimal import Decimal

from shopbot.domain.payments.events import EventResult, Outcome
from shopbot.domain.payments.models import InvoiceState
from shopbot.observability.metrics import CREDITED, PAYMENTS

# Heleket's final statuses without money: "cancel" is an invoice that lapsed unpaid
# (Heleket's payment status table); "fail" and "system_fail" failed.
EXPIRED_STATUSES = frozenset({"cancel"})


def count_created(provider: str) -> None:
    """An invoice shown to a customer; `provider`: "heleket" or "stars"."""
    PAYMENTS.labels(provider, "created").inc()


def count_paid(provider: str, currency: str, amount: Decimal) -> None:
    """A payment credited: `amount` in `currency` units added to a customer's balance."""
    PAYMENTS.labels(provider, "paid").inc()
    CREDITED.labels(provider, currency).inc(float(amount))


def count_settled(result: EventResult) -> None:
    """What an applied Heleket event did to its payment: paid (and the money credited),
    refunded, expired or failed; nothing for events that were not applied."""
    invoice = result.invoice
    if result.outcome is not Outcome.APPLIED or invoice is None:
        return
    if result.credited is not None:
        count_paid("heleket", invoice.currency, result.credited)
    elif result.refund is not None:
        PAYMENTS.labels("heleket", "refunded").inc()
    elif invoice.state is InvoiceState.CLOSED:
        expired = invoice.gateway_status in EXPIRED_STATUSES
        PAYMENTS.labels("heleket", "expired" if expired else "failed").inc()
