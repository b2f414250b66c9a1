import asyncio

import click

from shopbot.cli.runtime import load_settings
from shopbot.persistence import migrate
from shopbot.persistence.engine import safe_url
from shopbot.readiness import check_database


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    url = load_settings().database_url
    asyncio.run(check_database(url, schema=False))  # one clear line instead of a traceback
    migrate.upgrade(url, revision)
    click.echo(f"database {safe_url(url)} is at {revision}")


@db.command()
def current() -> None:
    """Show the applied revision."""
    url = load_settings().database_url
    asyncio.run(check_database(url, schema=False))
    migrate.current(url)
