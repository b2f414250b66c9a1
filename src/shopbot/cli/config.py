import asyncio

import click

from shopbot.cli.preflight import PROCESSES, preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.persistence.engine import safe_url


@click.group()
def config() -> None:
    """Settings."""


@config.command()
@click.option(
    "--for",
    "process",
    type=click.Choice(PROCESSES),
    multiple=True,
    help="run the start-up checks of this process (default: cli, the database commands)",
)
def check(process: tuple[str, ...]) -> None:
    """Run the start-up checks of PROCESS: settings, its secrets, the database (reachable,
    migrations at head) and Redis for the bot; exit 2 (or 1 when a server did not answer)
    with one line naming the problem."""
    settings = load_settings()
    for name in process or ("cli",):
        warn(asyncio.run(preflight(settings, name)))
    click.echo(
        f"settings ok: environment={settings.environment} "
        f"database={safe_url(settings.database_url)} currency={settings.shop_currency}"
    )
