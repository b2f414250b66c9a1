import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import click
import uvicorn
from fastapi import FastAPI

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.adapters.telegram.notifier import TelegramPaymentNotifier, notifier_from_settings
from shopbot.cli.preflight import preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.observability.startup import log_startup
from shopbot.webhook.app import create_app


def close_on_shutdown(app: FastAPI, notifier: TelegramPaymentNotifier) -> None:
    """Close the notifier's bot session and connections after the app's own shutdown."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(application):  # the app keeps its state on app.state
                yield
        finally:
            await notifier.aclose()

    app.router.lifespan_context = lifespan


@click.command()
@click.option("--host", help="default WEBHOOK_HOST")
@click.option("--port", type=click.IntRange(1, 65535), help="default WEBHOOK_PORT (8001)")
def webhook(host: str | None, port: int | None) -> None:
    """Serve Heleket webhooks and health checks. Refuses to start without the Heleket keys
    or TELEGRAM_TOKEN (customers are told of payments and purchases completed after a
    top-up); `shopbot config check --for webhook` runs the same start-up checks."""
    settings = load_settings()
    warn(asyncio.run(preflight(settings, "webhook")))
    log_startup(settings, "webhook", host=host, port=port)
    gateway = HeleketClient.from_settings(settings)
    notifier = notifier_from_settings(settings)
    assert notifier is not None  # preflight refused a missing TELEGRAM_TOKEN
    app = create_app(settings, gateway=gateway, notify=notifier)
    close_on_shutdown(app, notifier)
    uvicorn.run(
        app,
        host=host or settings.webhook_host,
        port=port or settings.webhook_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # shopbot.observability.logging routes uvicorn's records
        proxy_headers=False,  # forwarded headers are judged by TRUSTED_PROXIES instead
        server_header=False,
    )
