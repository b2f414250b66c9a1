"""What the webhook service counts: each Heleket webhook's outcome, and the payments its
events settle (from the webhook route and from periodic reconciliation alike)."""

from fastapi import APIRouter, Response

from shopbot.domain.payments.events import EventResult, Outcome
from shopbot.observability.metrics import HELEKET_WEBHOOKS
from shopbot.observability.metrics.exposition import CONTENT_TYPE, render
from shopbot.observability.metrics.payments import count_settled

router = APIRouter(tags=["health"])

WEBHOOK_OUTCOMES = {
    Outcome.APPLIED: "accepted",
    Outcome.DUPLICATE: "duplicate",
    # Recorded, but it changes nothing: the invoice is in another state, the status is
    # unknown, or it is a payout report.
    Outcome.IGNORED: "mismatch",
    Outcome.QUARANTINED: "quarantined",
}


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
