import asyncio
import sys

import click

from shopbot.cli.runtime import load_settings
from shopbot.observability.health import current_heads, head_revisions
from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine, safe_url
from shopbot.readiness import check_database


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (never down: a database already past REVISION stays
    where it is, and the command says so with exit 2; roll back by restoring the backup
    taken before the upgrade, docs/deployment.md#upgrading)."""
    url = load_settings().database_url
    asyncio.run(check_database(url, schema=False))  # one clear line instead of a traceback
    try:
        wanted = migrate.resolve(revision)
    except migrate.UnknownRevision as exc:
        raise click.UsageError(str(exc)) from None
    migrate.upgrade(url, revision)
    reached = asyncio.run(applied_revisions(url))
    shown = "head" if set(reached) == set(head_revisions()) else ", ".join(reached) or "nothing"
    click.echo(f"database {safe_url(url)} is at {shown}")
    if wanted is not None and reached != (wanted,):
        click.echo(
            f"shopbot: the database stays at {', '.join(reached)}, past {revision}: `db upgrade`"
            " never goes down; to roll back, restore the backup taken before the upgrade",
            err=True,
        )
        sys.exit(2)


async def applied_revisions(url: str) -> tuple[str, ...]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(current_heads)
    finally:
        await engine.dispose()


@db.command()
def current() -> None:
    """Show the applied revision."""
    url = load_settings().database_url
    asyncio.run(check_database(url, schema=False))
    migrate.current(url)
