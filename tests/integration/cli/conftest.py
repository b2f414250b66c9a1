"""One migrated PostgreSQL database per test module, built by `shopbot db upgrade`."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.persistence.engine import create_engine
from tests.conftest import create_database, drop_database, truncate_all
from tests.integration.cli.harness import Shop, shopbot


@pytest.fixture(scope="module")
async def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await create_database()
    try:
        result = await shopbot(tmp_path_factory.mktemp("upgrade"), url, "db", "upgrade")
        assert result.code == 0, result.output
        assert "is at head" in result.stdout
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="module")
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def shop(migrated_url: str, engine: AsyncEngine, tmp_path: Path) -> Shop:
    await truncate_all(engine)
    return Shop(url=migrated_url, engine=engine, cwd=tmp_path)
