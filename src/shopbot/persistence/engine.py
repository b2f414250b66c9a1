import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """The process's one engine. SQLite gets foreign keys, WAL and a busy timeout so the
    development default behaves like a real database under concurrent writers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return _postgresql_engine(url, pool_size=pool_size, echo=echo)


def create_read_only_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An engine for the reads that only show data (persistence/replicas.py). On
    PostgreSQL each connection is opened with `default_transaction_read_only=on` and runs
    in autocommit: every statement is its own READ ONLY transaction, so a write through it
    fails ("cannot execute INSERT in a read-only transaction"), and a one-statement screen
    costs one round trip instead of three (BEGIN READ ONLY, the statement, ROLLBACK).
    Nothing is lost by the missing transaction: at READ COMMITTED, PostgreSQL's default
    and this project's, each statement of a transaction takes its own snapshot anyway
    (PostgreSQL docs, "Transaction Isolation").

    `pool_size`: kept connections, as many again allowed in bursts; on the primary this
    pool comes on top of the writers' (`create_engine`), so it counts against the
    server's max_connections (docs/deployment.md). Raises ValueError for a database other
    than PostgreSQL (SQLite has no read-only mode and no replicas: its reads share the
    one engine)."""
    if make_url(url).get_backend_name() != "postgresql":
        raise ValueError("read-only engines are for PostgreSQL")
    return _postgresql_engine(
        url,
        pool_size=pool_size,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"default_transaction_read_only": "on"}},
    )


def _postgresql_engine(url: str, *, pool_size: int, **options: Any) -> AsyncEngine:
    # LIFO: the most recently used connection first, so with any steady traffic the
    # connections in use stay fresh and the idle ping below is rare.
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True, **options
    )
    ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 2.0
"""A pooled connection idle at least this long is pinged before it is handed out."""


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Pessimistic disconnect handling for connections that sat in the pool: SQLAlchemy's
    "custom pessimistic ping" recipe (docs: Core, "Dealing with Disconnects"), in place of
    `pool_pre_ping`, which pings at every checkout. With asyncpg a ping is three round
    trips (BEGIN, `;`, ROLLBACK: SQLAlchemy wraps it in a transaction for pgbouncer), and
    a bot update checks out a connection two or three times, so pinging every checkout
    was most of an update's database round trips (bench/dispatch.py).

    A connection back in use within `idle_seconds` is not pinged: if the server went away
    in that moment, the statement fails, SQLAlchemy recognises the disconnect and
    invalidates the whole pool, and that one request fails (a bot update or a Heleket
    webhook is redelivered). A connection idle longer (every one after a restart that
    took longer than that) is pinged; a dead one is replaced before anyone uses it
    (raising DisconnectionError makes the pool try another connection)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # new, or just used
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)
