"""Programmatic Alembic: `shopbot db upgrade` and the tests use the packaged migrations."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


class UnknownRevision(ValueError):
    """The revision names no packaged migration."""


def resolve(revision: str) -> str | None:
    """The full id of `revision` (an id or a unique prefix); None for "head" (which may be
    several heads). Raises UnknownRevision."""
    if revision == "head":
        return None
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        found = script.get_revision(revision)
    except CommandError as exc:
        raise UnknownRevision(f"no migration {revision!r}: {exc}") from None
    if found is None:
        raise UnknownRevision(f"no migration {revision!r}")
    return found.revision


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=False)
