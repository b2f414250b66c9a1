"""Building the webhook service: the FastAPI app with its database, Heleket client (for
reconciliation) and payment notifier."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from shopbot.composition.notices import open_telegram_notifier
from shopbot.composition.resources import HeleketRetry, open_database, open_heleket
from shopbot.config import Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.domain.payments.notifier import PaymentNotifier
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.webhook.app import create_app
from shopbot.webhook.services import WebhookServices


@dataclass(frozen=True)
class WebhookService:
    settings: Settings
    app: FastAPI
    uows: UnitOfWorkFactory
    gateway: PaymentGateway
    notifier: PaymentNotifier | None


@asynccontextmanager
async def webhook_service(
    settings: Settings,
    *,
    gateway: PaymentGateway | None = None,
    heleket_retry: HeleketRetry | None = None,
    notifier: PaymentNotifier | None = None,
) -> AsyncIterator[WebhookService]:
    """The service built from `settings`; serve `.app` inside the block. On exit its
    resources close in reverse order: the notifier's Bot session, the Heleket client,
    the database engine.

    `gateway`: used instead of a Heleket client built from the settings (`heleket_retry`:
    the built client's retry pace). `notifier`: used instead of the Telegram notifier
    built from TELEGRAM_TOKEN (none without the token). Raises MissingSecret without
    HELEKET_MERCHANT_ID and HELEKET_API_KEY. Nothing connects until used.

    No replicas (DATABASE_REPLICA_URLS): everything this service reads decides money
    (an invoice's state, a balance to credit), so all of it goes to the primary."""
    async with AsyncExitStack() as stack:
        database = open_database(stack, settings)
        if gateway is None:
            gateway = open_heleket(stack, settings, heleket_retry)
        if notifier is None:
            notifier = open_telegram_notifier(stack, settings, database.uows)
        services = WebhookServices.from_settings(settings, database.engine, database.uows, notifier)
        app = create_app(settings, services, gateway=gateway)
        yield WebhookService(settings, app, database.uows, gateway, notifier)
