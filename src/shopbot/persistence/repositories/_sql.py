from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_or_ignore(session: AsyncSession, table: Any, *, conflict_on: list[str]) -> Any:
    """INSERT ... ON CONFLICT (cols) DO NOTHING for the session's database.

    The UNIQUE index settles races: a concurrent twin waits for the first insert to
    commit and then inserts nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_on)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_on)


def upsert(session: AsyncSession, table: Any) -> Any:
    """INSERT for the session's database, ready for `.on_conflict_do_update(...)`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
