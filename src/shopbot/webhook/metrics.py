"""What the webhook service counts: each Heleket webhook's outcome, and the payments its
events settle (from the webhook route and from periodic reconciliation alike)."""

from fastapi import APIRouter, Response

from shopbot.domain.payments.events import EventResult, Outcome
from shopbot.domain.payments.models import InvoiceState
from shopbot.observability.metrics import CREDITED, HELEKET_WEBHOOKS, PAYMENTS
from shopbot.observability.metrics.exposition import CONTENT_TYPE, render

router = APIRouter(tags=["health"])

WEBHOOK_OUTCOMES = {
    Outcome.APPLIED: "accepted",
    Outcome.DUPLICATE: "duplicate",
    # Recorded, but it changes nothing: the invoice is in another state, the status is
    # unknown, or it is a payout report.
    Outcome.IGNORED: "mismatch",
    Outcome.QUARANTINED: "quarantined",
}
# Heleket's final statuses without money (SPEC §payment statuses): "cancel" is an invoice
# that lapsed unpaid; the others failed.
EXPIRED_STATUSES = frozenset({"cancel"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    """The text exposition format (every worker's values in multiprocess mode)."""
    return Response(render(), media_type=CONTENT_TYPE)


def count_webhook(outcome: str) -> None:
    """`outcome`: one of accepted|duplicate|bad_signature|bad_ip|mismatch|quarantined|error."""
    HELEKET_WEBHOOKS.labels(outcome).inc()


def count_event(result: EventResult) -> None:
    """Count the webhook's outcome and what an applied event did to its payment."""
    count_webhook(WEBHOOK_OUTCOMES[result.outcome])
    count_settled(result)


def count_settled(result: EventResult) -> None:
    """Count an applied event's payment: paid (and the money credited), refunded,
    expired or failed; nothing for events that were not applied."""
    invoice = result.invoice
    if result.outcome is not Outcome.APPLIED or invoice is None:
        return
    if result.credited is not None:
        PAYMENTS.labels("heleket", "paid").inc()
        CREDITED.labels("heleket", invoice.currency).inc(float(result.credited))
    elif result.refund is not None:
        PAYMENTS.labels("heleket", "refunded").inc()
    elif invoice.state is InvoiceState.CLOSED:
        expired = invoice.gateway_status in EXPIRED_STATUSES
        PAYMENTS.labels("heleket", "expired" if expired else "failed").inc()
