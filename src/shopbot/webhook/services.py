from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.config import Settings, is_placeholder, require_secrets
from shopbot.domain.payments.notifier import PaymentNotifier
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.webhook.client_ip import AddressSet
from shopbot.webhook.recorded_events import RecordedEvents


@dataclass(frozen=True)
class WebhookServices:
    """What the routes need, built once per process by `shopbot.composition.webhook`."""

    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    payment_key: str
    payout_key: str | None
    allowed_ips: AddressSet
    trusted_proxies: AddressSet
    notify: PaymentNotifier | None = None
    max_body_bytes: int = 64 * 1024
    recorded: RecordedEvents = field(default_factory=RecordedEvents)
    """Events this process saw committed: their redeliveries skip the database."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        uow_factory: UnitOfWorkFactory,
        notify: PaymentNotifier | None = None,
    ) -> "WebhookServices":
        """Refuses (MissingSecret) without HELEKET_MERCHANT_ID and HELEKET_API_KEY."""
        require_secrets(settings, "heleket_merchant_id", "heleket_api_key")
        assert settings.heleket_api_key is not None
        payout = settings.heleket_payout_key
        # Unset or placeholder: payout webhooks are refused, never checked against "changeme".
        payout_key = None if payout is None else payout.get_secret_value()
        if payout_key is not None and is_placeholder(payout_key):
            payout_key = None
        return cls(
            engine=engine,
            uow_factory=uow_factory,
            payment_key=settings.heleket_api_key.get_secret_value(),
            payout_key=payout_key,
            allowed_ips=AddressSet(settings.heleket_allowed_ips),
            trusted_proxies=AddressSet(settings.trusted_proxies),
            notify=notify,
        )
