"""The webhook service's app factory: nothing is created at import time, and the app
owns nothing it was given (`shopbot.composition.webhook` builds and closes those)."""

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from shopbot import __version__
from shopbot.config import Settings
from shopbot.domain.payments.events import EventResult
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.domain.payments.reconcile import reconcile
from shopbot.jobs.leader import run_as_leader
from shopbot.jobs.periodic import run_periodically
from shopbot.observability.metrics import set_build_info
from shopbot.observability.metrics.asgi import HttpMetricsMiddleware
from shopbot.observability.metrics.ledger import check_ledger
from shopbot.observability.metrics.payments import count_settled
from shopbot.webhook import metrics
from shopbot.webhook.request_id import RequestIdMiddleware
from shopbot.webhook.routes import health, heleket
from shopbot.webhook.services import WebhookServices

LEDGER_CHECK_LEASE = "ledger-check"
"""The lease whose leader checks the ledger for the metrics (one instance at a time)."""


def create_app(
    settings: Settings,
    services: WebhookServices,
    *,
    gateway: PaymentGateway | None = None,
) -> FastAPI:
    """The routes over `services`. With a gateway and RECONCILE_INTERVAL_SECONDS > 0 the
    app also reconciles open invoices periodically while it runs, once across all
    instances (the job is stopped at the app's shutdown). With
    LEDGER_CHECK_INTERVAL_SECONDS > 0 it checks the ledger for its metrics as well, on
    one instance at a time (`shopbot.observability.metrics.ledger`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services
        job: asyncio.Task[None] | None = None
        if gateway is not None and settings.reconcile_interval_seconds > 0:
            after = timedelta(seconds=settings.reconcile_after_seconds)

            async def on_applied(result: EventResult) -> None:
                count_settled(result)
                if services.notify is not None:
                    await services.notify(result)

            async def reconcile_once() -> object:
                return await reconcile(
                    services.uow_factory,
                    gateway,
                    now=datetime.now(UTC),
                    older_than=after,
                    on_applied=on_applied,
                )

            job = asyncio.create_task(
                run_periodically(
                    services.engine,
                    "heleket-reconcile",
                    settings.reconcile_interval_seconds,
                    reconcile_once,
                )
            )
        jobs = [job] if job is not None else []
        if settings.ledger_check_interval_seconds > 0:
            jobs.append(
                asyncio.create_task(
                    run_as_leader(
                        services.engine,
                        LEDGER_CHECK_LEASE,
                        settings.ledger_check_interval_seconds,
                        functools.partial(check_ledger, services.uow_factory),
                    )
                )
            )
        try:
            yield
        finally:
            for task in jobs:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="shopbot webhook service",
        version=__version__,
        description="Receives Heleket payment callbacks; health checks.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    if settings.metrics_enabled:
        # Outermost: the status and latency it records are what the client saw.
        app.add_middleware(HttpMetricsMiddleware)
    app.include_router(heleket.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    set_build_info()
    return app
