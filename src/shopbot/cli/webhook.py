import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import click
import uvicorn

from shopbot.cli.preflight import preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.composition.gc_tuning import freeze_startup_objects
from shopbot.composition.webhook import webhook_service
from shopbot.config import Settings
from shopbot.http.stop_signals import on_stop_signal
from shopbot.observability.startup import log_startup


async def serve(settings: Settings, host: str, port: int) -> None:
    async with webhook_service(settings) as service:
        freeze_startup_objects()
        config = uvicorn.Config(
            service.app,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            log_config=None,  # shopbot.observability.logging routes uvicorn's records
            proxy_headers=False,  # forwarded headers are judged by TRUSTED_PROXIES instead
            server_header=False,
        )
        server = QuietServer(config)
        with on_stop_signal(lambda: setattr(server, "should_exit", True)):
            await server.serve()


class QuietServer(uvicorn.Server):
    """uvicorn's server without its own signal handling: uvicorn raises a caught SIGINT or
    SIGTERM again after its shutdown, which killed the process before the composition
    root closed what it opened. `on_stop_signal` stops it instead."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@click.command()
@click.option("--host", help="default WEBHOOK_HOST")
@click.option("--port", type=click.IntRange(1, 65535), help="default WEBHOOK_PORT (8001)")
def webhook(host: str | None, port: int | None) -> None:
    """Serve Heleket webhooks and health checks. Refuses to start without the Heleket keys
    or TELEGRAM_TOKEN (customers are told of payments and purchases completed after a
    top-up); `shopbot config check --for webhook` runs the same start-up checks."""
    settings = load_settings()
    warn(asyncio.run(preflight(settings, "webhook")))
    host, port = host or settings.webhook_host, port or settings.webhook_port
    log_startup(settings, "webhook", host=host, port=port)
    asyncio.run(serve(settings, host, port))
