from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.domain.payments.events import EventResult
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.webhook.client_ip import AddressSet

PaymentNotifier = Callable[[EventResult], Awaitable[None]]


@dataclass(frozen=True)
class WebhookServices:
    """What the routes need, built once per process by the app factory."""

    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    payment_key: str
    payout_key: str | None
    allowed_ips: AddressSet
    trusted_proxies: AddressSet
    notify: PaymentNotifier | None = None
    max_body_bytes: int = 64 * 1024
