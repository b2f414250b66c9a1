"""Alembic is the only source of schema: migrations applied to an empty PostgreSQL
must produce exactly what the models describe."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine
from shopbot.persistence.models import Base
from tests.conftest import create_database, drop_database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture
async def empty_pg() -> AsyncIterator[str]:
    url = await create_database()
    yield url
    await drop_database(url)


async def test_migrations_match_models_on_postgresql(empty_pg: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_pg)
    engine = create_engine(empty_pg)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_downgrade_to_base_and_up_again(empty_pg: str) -> None:
    config = migrate.alembic_config(empty_pg)
    await asyncio.to_thread(migrate.upgrade, empty_pg)
    await asyncio.to_thread(command.downgrade, config, "base")
    engine = create_engine(empty_pg)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}
        await asyncio.to_thread(migrate.upgrade, empty_pg)
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) >= set(Base.metadata.tables)
    finally:
        await engine.dispose()


async def test_migrations_apply_to_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) >= set(Base.metadata.tables)
    finally:
        await engine.dispose()


def test_single_migration_head() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
