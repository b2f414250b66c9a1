"""The readiness probe behind every /health/ready, against real PostgreSQL and Redis: ready
when all answer; each failure named with a short reason that holds no URL or user."""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.bot.coordination import redis_client
from shopbot.observability.health import ReadinessProbe, head_revisions
from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine
from tests.conftest import create_database, drop_database

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_PASSWORD = "probe-secret-pw-7c1d"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung server:
    the kernel completes the handshake from the listen backlog)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@asynccontextmanager
async def engine_on(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database(revision: str | None) -> AsyncIterator[str]:
    """A new database migrated to `revision` (None: left empty)."""
    url = await create_database()
    try:
        if revision is not None:
            await asyncio.to_thread(migrate.upgrade, url, revision)
        yield url
    finally:
        await drop_database(url)


def dead_database_url() -> str:
    return f"postgresql+asyncpg://shop:{SECRET_PASSWORD}@127.0.0.1:{closed_port()}/shop"


async def test_ready_when_the_database_is_at_head_and_redis_answers(pg_engine: AsyncEngine) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        readiness = await ReadinessProbe(pg_engine, redis=client).check()
    finally:
        await client.aclose()

    assert readiness.status_code == 200
    assert readiness.body() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }


async def test_without_redis_there_is_no_redis_check(pg_engine: AsyncEngine) -> None:
    readiness = await ReadinessProbe(pg_engine).check()

    assert readiness.body() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


async def test_a_database_refusing_connections_is_named_without_its_url() -> None:
    async with engine_on(dead_database_url()) as engine:
        readiness = await ReadinessProbe(engine).check()

    assert readiness.status_code == 503
    assert readiness.body() == {
        "status": "unavailable",
        "checks": {
            "database": "down: connection refused",
            "migrations": "unknown: the database is down",
        },
    }


async def test_a_database_that_never_answers_is_named_within_the_timeout() -> None:
    with silent_server() as port:
        url = f"postgresql+asyncpg://shop:{SECRET_PASSWORD}@127.0.0.1:{port}/shop"
        async with engine_on(url) as engine:
            started = asyncio.get_running_loop().time()
            readiness = await ReadinessProbe(engine, timeout=0.5).check()
            took = asyncio.get_running_loop().time() - started

    assert readiness.checks["database"] == "down: no answer within 0.5 s"
    assert took < 3  # within `shopbot healthcheck`'s 3 s, with room for a loaded machine


async def test_a_wrong_database_name_is_named(pg_url: str) -> None:
    url = make_url(pg_url).set(database="shopbot_no_such_db").render_as_string(False)
    async with engine_on(url) as engine:
        readiness = await ReadinessProbe(engine).check()

    assert readiness.checks["database"] == "down: no such database"
    assert "shopbot_no_such_db" not in str(readiness.body())


async def test_an_empty_database_is_not_at_head() -> None:
    async with scratch_database(None) as url, engine_on(url) as engine:
        readiness = await ReadinessProbe(engine).check()

    assert readiness.status_code == 503
    assert readiness.checks == {
        "database": "ok",
        "migrations": "not at head: no schema (run `shopbot db upgrade`)",
    }


async def test_a_database_one_revision_behind_is_named_with_both_revisions() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    [head] = head_revisions()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    async with scratch_database(previous) as url, engine_on(url) as engine:
        readiness = await ReadinessProbe(engine).check()

    assert readiness.checks["migrations"] == f"not at head: at {previous}, needs {head}"
    assert readiness.status_code == 503


async def test_a_database_migrated_by_a_newer_version_is_named() -> None:
    async with scratch_database("head") as url, engine_on(url) as engine:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
        readiness = await ReadinessProbe(engine).check()

    assert readiness.checks["migrations"] == (
        "not at head: at f00dfeed, unknown to this version (a newer one)"
    )


async def test_an_unreachable_redis_is_named(pg_engine: AsyncEngine) -> None:
    client = Redis.from_url(f"redis://:{SECRET_PASSWORD}@127.0.0.1:{closed_port()}/0")
    try:
        readiness = await ReadinessProbe(pg_engine, redis=client).check()
    finally:
        await client.aclose()

    assert readiness.status_code == 503
    assert readiness.body() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "redis": "down: connection refused"},
    }


async def test_a_redis_that_never_answers_is_named_within_the_timeout(
    pg_engine: AsyncEngine,
) -> None:
    with silent_server() as port:
        client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
        try:
            readiness = await ReadinessProbe(pg_engine, redis=client, timeout=0.5).check()
        finally:
            await client.aclose()

    assert readiness.checks["redis"] == "down: no answer within 0.5 s"


async def test_a_redis_cluster_is_ready_when_every_master_answers(
    pg_engine: AsyncEngine, redis_cluster: list[str]
) -> None:
    client = redis_client(None, redis_cluster)
    assert client is not None
    try:
        readiness = await ReadinessProbe(pg_engine, redis=client).check()
    finally:
        await client.aclose()

    assert readiness.checks == {"database": "ok", "migrations": "ok", "redis": "ok"}


async def test_an_unreachable_redis_cluster_is_named(pg_engine: AsyncEngine) -> None:
    client = redis_client(None, [f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"])
    assert client is not None
    try:
        readiness = await ReadinessProbe(pg_engine, redis=client).check()
    finally:
        await client.aclose()

    assert readiness.status_code == 503
    assert readiness.checks["redis"].startswith("down: ")
    assert "127.0.0.1" not in readiness.checks["redis"]


async def test_concurrent_probes_share_one_run(pg_engine: AsyncEngine) -> None:
    probe = ReadinessProbe(pg_engine)

    results = await asyncio.gather(*(probe.check() for _ in range(20)))

    assert all(result is results[0] for result in results)
    assert results[0].ready
    assert (await probe.check()) is not results[0]  # a later probe checks again


async def test_a_caller_that_goes_away_does_not_cancel_the_others() -> None:
    with silent_server() as port:
        url = f"postgresql+asyncpg://shop@127.0.0.1:{port}/shop"
        async with engine_on(url) as engine:
            probe = ReadinessProbe(engine, timeout=0.5)
            impatient = asyncio.create_task(probe.check())
            patient = asyncio.create_task(probe.check())
            await asyncio.sleep(0.1)
            impatient.cancel()
            readiness = await patient

    assert impatient.cancelled()
    assert readiness.checks["database"] == "down: no answer within 0.5 s"


@pytest.mark.parametrize("where", ["database", "redis"])
async def test_no_reason_holds_a_password_host_or_user(pg_engine: AsyncEngine, where: str) -> None:
    client = Redis.from_url(f"redis://admin:{SECRET_PASSWORD}@127.0.0.1:{closed_port()}/0")
    try:
        if where == "database":
            async with engine_on(dead_database_url()) as engine:
                readiness = await ReadinessProbe(engine).check()
        else:
            readiness = await ReadinessProbe(pg_engine, redis=client).check()
    finally:
        await client.aclose()

    shown = str(readiness.body())
    assert not readiness.ready
    for secret in (SECRET_PASSWORD, "127.0.0.1", "shop:", "admin"):
        assert secret not in shown
