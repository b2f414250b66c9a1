"""Readiness of a running process: does its database answer, is its schema at Alembic's
head, does its Redis answer? One probe behind every `GET /health/ready` (the webhook
service, the bot in webhook mode, the polling bot's own health server).

The answer names each check: `{"status": "ok", "checks": {"database": "ok", "migrations":
"ok", "redis": "ok"}}`, or `"status": "unavailable"` (HTTP 503) with the failed checks as
short reasons (`"database": "down: connection refused"`). Reasons are built from
exception types, never from URLs or driver messages, so no host, user or password leaks
into an answer that load balancers and `docker inspect` keep.
"""

import asyncio
import functools
import socket
from dataclasses import dataclass
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.persistence.migrate import alembic_config

CHECK_TIMEOUT = 2.0
"""Seconds each check may take. Below the 3 s `shopbot healthcheck` waits for the whole
answer, so a hung database gives a 503 naming it rather than a client timeout."""
OK = "ok"


@dataclass(frozen=True)
class Readiness:
    """The checks that ran, by name ("database", "migrations", "redis"): "ok" or a short
    reason. Ready when every check is "ok"."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(result == OK for result in self.checks.values())

    @property
    def status_code(self) -> int:
        """200 when ready, else 503 (Service Unavailable, RFC 9110 §15.6.4)."""
        return 200 if self.ready else 503

    def body(self) -> dict[str, Any]:
        return {"status": "ok" if self.ready else "unavailable", "checks": dict(self.checks)}


class ReadinessProbe:
    """Checks one process's dependencies: the database on `engine` (one pooled connection
    reads Alembic's version table) and, when given, the process's own Redis client (a
    cluster has every master pinged). Concurrent `check()` calls share one run, so a burst
    of probes costs one connection. Stateless otherwise; the head revisions are read once
    per process (`head_revisions`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        redis: "Redis | RedisCluster | None" = None,
        *,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.timeout = timeout
        self._running: asyncio.Task[Readiness] | None = None

    async def check(self) -> Readiness:
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._check())
        # shield: a caller that goes away (client disconnected) must not cancel the run
        # other callers are waiting for.
        return await asyncio.shield(self._running)

    async def _check(self) -> Readiness:
        database = self._database()
        if self.redis is None:
            return Readiness(await database)
        (db_checks, redis_check) = await asyncio.gather(database, self._redis(self.redis))
        return Readiness({**db_checks, "redis": redis_check})

    async def _database(self) -> dict[str, str]:
        try:
            async with asyncio.timeout(self.timeout), self.engine.connect() as connection:
                current = await connection.run_sync(current_heads)
        except Exception as exc:  # drivers raise many types; all mean "not usable"
            reason = f"down: {failure_reason(exc, self.timeout)}"
            return {"database": reason, "migrations": "unknown: the database is down"}
        heads = await asyncio.to_thread(head_revisions)
        return {"database": OK, "migrations": migrations_state(current, heads)}

    async def _redis(self, client: "Redis | RedisCluster") -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await ping(client)
        except Exception as exc:  # connection, auth, cluster and timeout errors alike
            return f"down: {failure_reason(exc, self.timeout)}"
        return OK


async def ping(client: "Redis | RedisCluster") -> None:
    """PING a single Redis, or every master of a cluster: a key may hash to any of them.
    Raises what the client raises (ConnectionError, RedisClusterException, ...)."""
    if isinstance(client, RedisCluster):
        await client.ping(target_nodes=RedisCluster.PRIMARIES)
    else:
        await client.ping()


def current_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions in the database's `alembic_version` table; () when never migrated."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


@functools.cache
def head_revisions() -> frozenset[str]:
    """The head revisions of the packaged migrations; read from disk once per process
    (they cannot change while it runs)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of the packaged migrations."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(revision.revision for revision in script.walk_revisions())


def migrations_state(current: tuple[str, ...], heads: frozenset[str]) -> str:
    """ "ok" when the database is at `heads`, else why not (no schema, behind, or at a
    revision from a newer shopbot)."""
    if set(current) == heads:
        return OK
    if not current:
        return "not at head: no schema (run `shopbot db upgrade`)"
    unknown = sorted(set(current) - known_revisions())
    if unknown:
        return f"not at head: at {', '.join(unknown)}, unknown to this version (a newer one)"
    return f"not at head: at {', '.join(sorted(current))}, needs {', '.join(sorted(heads))}"


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: SQLAlchemy's `.orig` (the driver's error), else the
    `__cause__`, else the `__context__` unless suppressed (redis-py raises its
    ConnectionError while handling the socket's error, without `from`)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            current = orig
        elif current.__cause__ is not None or current.__suppress_context__:
            current = current.__cause__
        else:
            current = current.__context__
    return found


# Exception type names (anywhere in the chain) -> the words a reason uses. Names, not
# classes: asyncpg, aiosqlite and redis-py need not be imported to be recognised.
_REASONS = (
    ("ConnectionRefusedError", "connection refused"),
    ("InvalidPasswordError", "password refused"),
    ("AuthenticationError", "password refused"),
    ("InvalidAuthorizationSpecificationError", "user refused"),
    ("InvalidCatalogNameError", "no such database"),
    ("CannotConnectNowError", "starting up or shutting down"),
    ("ConnectionResetError", "connection reset"),
)


def failure_reason(exc: BaseException, timeout: float) -> str:
    """A few words for why a check failed, without URLs, user names or driver text."""
    chain = exception_chain(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if any(isinstance(link, socket.gaierror) for link in chain):
        return "host not found"
    names = {type(link).__name__ for link in chain}
    for name, words in _REASONS:
        if name in names:
            return words
    return type(chain[-1]).__name__
