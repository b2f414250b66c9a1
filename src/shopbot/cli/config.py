import click

from shopbot.cli.runtime import load_settings
from shopbot.config import require_secrets
from shopbot.persistence.engine import safe_url

# What each long-running process needs before it may start.
REQUIRED = {
    "bot": ("telegram_token",),
    "webhook": ("heleket_merchant_id", "heleket_api_key"),
    "tunnel": ("cloudflare_tunnel_token",),
}


@click.group()
def config() -> None:
    """Settings."""


@config.command()
@click.option(
    "--for",
    "process",
    type=click.Choice(sorted(REQUIRED)),
    multiple=True,
    help="also require the secrets of this process",
)
def check(process: tuple[str, ...]) -> None:
    """Validate the settings; exit 2 naming the first missing or placeholder secret."""
    settings = load_settings()
    for name in process:
        require_secrets(settings, *REQUIRED[name])
    click.echo(
        f"settings ok: environment={settings.environment} "
        f"database={safe_url(settings.database_url)} currency={settings.shop_currency}"
    )
