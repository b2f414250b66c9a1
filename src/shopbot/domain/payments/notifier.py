"""The port through which the payment flow tells customers what happened.

Kept apart from `ports.py` (the repositories): it names `EventResult`, whose module
needs the unit of work, which needs `ports.py`; one module each keeps the domain
free of import cycles.
"""

from typing import Protocol

from shopbot.domain.payments.events import EventResult


class PaymentNotifier(Protocol):
    """Tells the invoice's owner what a Heleket event did for them (credited, refunded)
    and completes what they were paying for. Called after the event is committed; an
    implementation logs its own failures and never raises: the payment is durable."""

    async def __call__(self, result: EventResult) -> None: ...
