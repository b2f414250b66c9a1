"""Can a process use its database and Redis? One clear line when not.

Every command that touches the database calls `check_database` before it starts (the
bot and the webhook service included), and `shopbot config check` calls the same.
Messages name the problem and the fix and show URLs with the password masked.
"""

import asyncio
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url

from shopbot.observability.health import (
    current_heads,
    exception_chain,
    head_revisions,
    known_revisions,
    ping,
)
from shopbot.persistence.engine import create_engine, safe_url

# Exit codes (docs/cli.md): 2 when the settings or the setup must change, 1 when a
# server did not answer and trying again later may work.
EXIT_FAILURE = 1
EXIT_CONFIG = 2
CONNECT_TIMEOUT = 10.0  # seconds; asyncpg's own default (60 s) is too long to wait at start
UPGRADE = "run `shopbot db upgrade`"


class NotReady(Exception):
    """The process cannot start; `str()` is the one line to show, `exit_code` 1 or 2."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def check_database(url: str, *, schema: bool = True) -> None:
    """Connect to DATABASE_URL (`url`, already normalised by Settings) within
    CONNECT_TIMEOUT seconds and, with `schema`, check the migrations are at head.

    Raises NotReady: exit 2 for a wrong name, user, password, database, missing SQLite
    file or a schema not at head; exit 1 when the server refused or did not answer.
    """
    where = _where(url)
    shown = f"DATABASE_URL={safe_url(url)}"
    parsed = make_url(url)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    # Connecting would create an empty file; say what to do instead.
    if schema and sqlite_file and not await asyncio.to_thread(Path(sqlite_file).exists):
        raise NotReady(f"the SQLite file {sqlite_file} does not exist: {UPGRADE}", EXIT_CONFIG)
    engine = create_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as connection:
            current = await connection.run_sync(current_heads)
    except TimeoutError:
        raise NotReady(
            f"database at {where} did not answer within {CONNECT_TIMEOUT:g} s — is it "
            f"running and reachable? {shown}",
            EXIT_FAILURE,
        ) from None
    except Exception as exc:  # drivers raise many types; _explain words the known ones
        raise NotReady(_explain(exc, where, shown), _exit_code(exc)) from None
    finally:
        await engine.dispose()
    if schema:
        _check_heads(current, shown)


def _check_heads(current: tuple[str, ...], shown: str) -> None:
    heads = head_revisions()
    if not current:
        raise NotReady(f"the database has no schema: {UPGRADE} ({shown})", EXIT_CONFIG)
    if set(current) == heads:
        return
    unknown = sorted(set(current) - known_revisions())
    if unknown:
        raise NotReady(
            f"the database is at revision {', '.join(unknown)}, which this shopbot does not "
            f"know (a newer version migrated it): run that version or a newer one ({shown})",
            EXIT_CONFIG,
        )
    raise NotReady(
        f"the database schema is behind this version (at {', '.join(sorted(current))}, "
        f"needs {', '.join(sorted(heads))}): {UPGRADE} ({shown})",
        EXIT_CONFIG,
    )


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _names(exc: BaseException) -> set[str]:
    return {type(link).__name__ for link in exception_chain(exc)}


def _exit_code(exc: BaseException) -> int:
    refused = {"ConnectionRefusedError", "ConnectionResetError", "CannotConnectNowError"}
    return EXIT_FAILURE if _names(exc) & refused else EXIT_CONFIG


def _explain(exc: BaseException, where: str, shown: str) -> str:
    names = _names(exc)
    last = exception_chain(exc)[-1]
    if "ConnectionRefusedError" in names:
        return f"database at {where} refused the connection — is PostgreSQL running? {shown}"
    if any(isinstance(link, socket.gaierror) for link in exception_chain(exc)):
        return f"cannot find the database host of {where} — check the host name in {shown}"
    if "InvalidPasswordError" in names:
        return f"database at {where} refused the password — check the password in {shown}"
    if "InvalidAuthorizationSpecificationError" in names:
        return f"database at {where}: {last} — check the user name in {shown}"
    if "InvalidCatalogNameError" in names:
        return f"database at {where}: {last} — create it (createdb) or fix the name in {shown}"
    if "OperationalError" in names and "sqlite" in where.lower():
        return f"cannot open the {where}: {last} — does its directory exist and is it writable?"
    if "CannotConnectNowError" in names:
        return f"database at {where} is starting up or shutting down; try again ({shown})"
    return f"cannot use the database at {where}: {type(last).__name__}: {last} ({shown})"


async def check_redis(url: str | None, cluster_nodes: list[str]) -> None:
    """Ping REDIS_URL or REDIS_CLUSTER_NODES (nothing when neither is set).

    Raises NotReady (exit 1) naming the variable when Redis does not answer in time.
    """
    from shopbot.bot.coordination import redis_client  # the bot's own client, as it runs

    client = redis_client(url, cluster_nodes)
    if client is None:
        return
    variable = "REDIS_CLUSTER_NODES" if cluster_nodes else "REDIS_URL"
    shown = ",".join(cluster_nodes) if cluster_nodes else safe_redis_url(str(url))
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await ping(client)
    except Exception as exc:  # connection, auth and timeout errors all mean "not usable"
        detail = "no answer" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        raise NotReady(
            f"Redis at {shown} is not usable ({detail}) — is it running? {variable}", EXIT_FAILURE
        ) from None
    finally:
        await client.aclose()


def safe_redis_url(url: str) -> str:
    """A redis:// URL with its password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
