"""The webhook service's app factory: nothing is created at import time."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from shopbot import __version__
from shopbot.config import Settings, is_placeholder, require_secrets
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.domain.payments.reconcile import reconcile
from shopbot.jobs.periodic import run_periodically
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.webhook.client_ip import AddressSet
from shopbot.webhook.request_id import RequestIdMiddleware
from shopbot.webhook.routes import health, heleket
from shopbot.webhook.services import PaymentNotifier, WebhookServices


def create_app(
    settings: Settings,
    *,
    gateway: PaymentGateway | None = None,
    notify: PaymentNotifier | None = None,
) -> FastAPI:
    """Refuses (MissingSecret) without HELEKET_MERCHANT_ID and HELEKET_API_KEY.

    With a gateway and RECONCILE_INTERVAL_SECONDS > 0 the service also reconciles open
    invoices periodically, once across all instances.
    """
    require_secrets(settings, "heleket_merchant_id", "heleket_api_key")
    assert settings.heleket_api_key is not None
    payout = settings.heleket_payout_key
    # Unset or placeholder: payout webhooks are refused, never checked against "changeme".
    payout_key = None if payout is None else payout.get_secret_value()
    if payout_key is not None and is_placeholder(payout_key):
        payout_key = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        uow_factory = UnitOfWorkFactory(create_session_factory(engine))
        app.state.services = WebhookServices(
            engine=engine,
            uow_factory=uow_factory,
            payment_key=settings.heleket_api_key.get_secret_value(),  # type: ignore[union-attr]
            payout_key=payout_key,
            allowed_ips=AddressSet(settings.heleket_allowed_ips),
            trusted_proxies=AddressSet(settings.trusted_proxies),
            notify=notify,
        )
        job: asyncio.Task[None] | None = None
        if gateway is not None and settings.reconcile_interval_seconds > 0:
            after = timedelta(seconds=settings.reconcile_after_seconds)

            async def reconcile_once() -> object:
                return await reconcile(
                    uow_factory,
                    gateway,
                    now=datetime.now(UTC),
                    older_than=after,
                    on_applied=notify,
                )

            job = asyncio.create_task(
                run_periodically(
                    engine,
                    "heleket-reconcile",
                    settings.reconcile_interval_seconds,
                    reconcile_once,
                )
            )
        try:
            yield
        finally:
            if job is not None:
                job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job
            await engine.dispose()

    app = FastAPI(
        title="shopbot webhook service",
        version=__version__,
        description="Receives Heleket payment callbacks; health checks.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    app.include_router(heleket.router)
    app.include_router(health.router)
    return app
