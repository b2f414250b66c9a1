"""Shared fixtures. PostgreSQL is a real server (`TEST_POSTGRES_URL`, by default the local
one that .ci/run starts); each test run gets its own fresh database built by the
Alembic migrations, never by `create_all`."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.domain.catalog.spec import ProductSpec
from shopbot.domain.ledger import SystemAccount
from shopbot.domain.ledger.use_cases import credit_topup
from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.models import Base
from shopbot.persistence.uow import UnitOfWorkFactory

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

# The container fixtures (docker_engine, standin_images, project_image, ...) serve
# tests/docker, tests/nginx and tests/deploy alike.
pytest_plugins = ["tests.docker.fixtures"]


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database() -> str:
    """A new empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"shopbot_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_plain(ADMIN_URL))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(_plain(ADMIN_URL))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    url = await create_database()
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url, pool_size=20)
    yield engine
    await engine.dispose()


async def truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def pg_uow(pg_engine: AsyncEngine) -> UnitOfWorkFactory:
    """A unit-of-work factory on a freshly emptied PostgreSQL database."""
    await truncate_all(pg_engine)
    return UnitOfWorkFactory(create_session_factory(pg_engine))


@pytest.fixture
async def sqlite_uow(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    yield UnitOfWorkFactory(create_session_factory(engine))
    await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_uow(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """Both supported databases, for behaviour that must not differ between them."""
    fixture = "pg_uow" if request.param == "postgresql" else "sqlite_uow"
    factory: UnitOfWorkFactory = request.getfixturevalue(fixture)
    return factory


def product_spec(
    sku: str, kind: ProductKind = ProductKind.STOCK, price: str = "10.00", active: bool = True
) -> ProductSpec:
    return ProductSpec(
        sku=sku,
        kind=kind,
        title=LocalizedText(ru=f"Товар {sku}", en=f"Product {sku}"),
        description=LocalizedText(ru="", en=""),
        price=Decimal(price),
        is_active=active,
        content=f"content of {sku}" if kind is ProductKind.UNLIMITED else None,
        category_slug=None,
    )


async def add_user(uow_factory: UnitOfWorkFactory, user_id: int, balance: str = "0") -> None:
    async with uow_factory() as uow:
        await uow.users.register(user_id, username=f"user{user_id}", language="en")
        if Decimal(balance) > 0:
            await credit_topup(
                uow,
                user_id=user_id,
                amount=Decimal(balance),
                provider=SystemAccount.HELEKET,
                idempotency_key=f"test-topup:{user_id}:{uuid.uuid4()}",
                memo="test top-up",
            )
        await uow.commit()


async def add_product(
    uow_factory: UnitOfWorkFactory,
    sku: str,
    kind: ProductKind = ProductKind.STOCK,
    price: str = "10.00",
    stock: list[str] | None = None,
) -> int:
    async with uow_factory() as uow:
        product = await uow.catalog.upsert_product(product_spec(sku, kind, price), None)
        if stock:
            await uow.stock.add_items(product.id, stock)
        await uow.commit()
        return product.id


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[list[str]]:
    """A real 3-master Redis Cluster for this test session: its nodes as "host:port"."""
    from tests.redis_cluster import running_cluster

    with running_cluster() as nodes:
        yield nodes


# One xdist group (`--dist loadgroup`): these tests each hold up to a pool's worth of
# connections, and several at once on different workers pass PostgreSQL's max_connections.
MANY_CONNECTIONS = "many_connections"
# Fixtures whose use means the test starts another program.
SUBPROCESS_FIXTURES = frozenset({"redis_cluster", "php"})
TESTS = Path(__file__).resolve().parent
# Modules that start programs themselves: `shopbot demo`, a browser, a PostgreSQL cluster.
SUBPROCESS_MODULES = frozenset(
    TESTS / "e2e" / name
    for name in (
        "test_demo.py",
        "test_sandbox_command.py",
        "test_browser_sandbox.py",
        "test_database_outage.py",
    )
)


DOCKER = "docker"
DOCKER_FIXTURES = {
    "docker_engine",
    "standin_images",
    "project_image",
    "containers",
    "compose_project",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks by place, so a new test is classified without remembering to: everything under
    tests/e2e is `e2e`; everything under tests/docker is `docker` and `subprocess` (it runs
    containers); tests under tests/integration/cli (they run the `shopbot` command),
    in SUBPROCESS_MODULES or using a fixture that starts a program are `subprocess`; the
    tests that open dozens of connections at once share one worker (MANY_CONNECTIONS), and
    so do the container tests (DOCKER: one worker builds the images, and whole stacks do
    not start side by side on two cores)."""
    for item in items:
        where = item.path.resolve()
        if where.is_relative_to(TESTS / "e2e"):
            item.add_marker(pytest.mark.e2e)
        if where.is_relative_to(TESTS / "docker"):
            item.add_marker(pytest.mark.docker)
            item.add_marker(pytest.mark.subprocess)
        fixtures = set(getattr(item, "fixturenames", ()))
        if "concurrent" in item.name or where == TESTS / "integration" / "test_concurrency.py":
            item.add_marker(pytest.mark.xdist_group(MANY_CONNECTIONS))
        elif item.get_closest_marker("docker") or fixtures & DOCKER_FIXTURES:
            item.add_marker(pytest.mark.xdist_group(DOCKER))
        if (
            where.is_relative_to(TESTS / "integration" / "cli")
            or where in SUBPROCESS_MODULES
            or fixtures & SUBPROCESS_FIXTURES
        ):
            item.add_marker(pytest.mark.subprocess)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A skipped test fails: every test must run, here as in CI (.ci/run checks it too)."""
    report: pytest.TestReport = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but no test may skip: {report.longrepr}"
    return report
