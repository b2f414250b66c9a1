import click
import uvicorn

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.cli.runtime import load_settings
from shopbot.webhook.app import create_app


@click.command()
@click.option("--host", help="default WEBHOOK_HOST")
@click.option("--port", type=int, help="default WEBHOOK_PORT (8001)")
def webhook(host: str | None, port: int | None) -> None:
    """Serve Heleket webhooks and health checks."""
    settings = load_settings()
    gateway = HeleketClient.from_settings(settings)
    app = create_app(settings, gateway=gateway)
    uvicorn.run(
        app,
        host=host or settings.webhook_host,
        port=port or settings.webhook_port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,  # forwarded headers are judged by TRUSTED_PROXIES instead
        server_header=False,
    )
