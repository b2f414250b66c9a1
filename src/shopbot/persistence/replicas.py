"""Choosing where a read-only unit of work runs: a healthy streaming replica, else the
primary (DATABASE_REPLICA_URLS, docs/deployment.md#postgresql-replication).

Replicas are taken in turn (round-robin). One is skipped while it cools down after a
failed connection, and while its last measured replay lag exceeds the bound; when none
is usable the primary serves, so a replica's trouble never fails a request. The lag is
measured on the connection just opened, at most once per `lag_ttl` per replica (not per
request), and the verdict is cached in between.

The session factories handed to the router are on read-only engines
(`engine.create_read_only_engine`): on PostgreSQL every statement runs in autocommit as
its own READ ONLY transaction, so a write through it fails loudly, replica or primary
alike, and a read costs no BEGIN and ROLLBACK round trips.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

PRIMARY = "primary"
"""The `target` of reads the primary served."""

# Replay lag in seconds on a standby: 0 when it has replayed everything it received (so an
# idle primary does not look like lag), else the age of the last transaction it replayed;
# NULL on a server that is not a standby (a primary, a promoted replica): never used.
# The functions: PostgreSQL's "Recovery Information Functions" (System Administration
# Functions, https://www.postgresql.org/docs/current/functions-admin.html); monitoring a
# hot standby with them: "Hot Standby" (docs/current/hot-standby.html) and "Log-Shipping
# Standby Servers" (docs/current/warm-standby.html). The usual form compares receive and
# replay positions with `=`; `<=` here, because a standby's WAL receiver restarts at the
# start of a WAL segment, below what was already replayed (measured here: receive
# 0/3000000, replay 0/3000060 on a fresh pg_basebackup standby and after a restart), and
# `=` then reports the idle primary's quiet time as lag.
LAG_QUERY = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)
PROBE = text("SELECT 1")
# What a replica that cannot serve raises while connecting or measuring: the driver's
# errors (wrapped by SQLAlchemy), the socket's, and the opening's time limit.
UNAVAILABLE = (DBAPIError, OSError, TimeoutError)


def replica_label(index: int) -> str:
    """`replica-1`, `replica-2`, ... for the 1-based position in DATABASE_REPLICA_URLS:
    the metrics' `target` and the logs name a replica so, never by its URL."""
    return f"replica-{index}"


@dataclass(frozen=True)
class ReplicaPolicy:
    """`max_lag`: seconds of replay lag above which a replica is skipped
    (DATABASE_REPLICA_MAX_LAG_SECONDS). `lag_ttl`: seconds a measured lag is trusted
    before the next unit of work on that replica measures again. `cooldown`: seconds a
    replica is skipped after a failed connection (then one unit of work tries it again).
    `open_timeout`: seconds allowed for connecting, beginning and measuring on a replica
    before the primary is taken instead (a host that drops packets would otherwise hold
    the request for the driver's 60 s connect timeout)."""

    max_lag: float = 5.0
    lag_ttl: float = 2.0
    cooldown: float = 30.0
    open_timeout: float = 2.0


@dataclass
class Replica:
    """One replica's sessions and what is known of its health (seconds on the router's
    clock)."""

    label: str
    sessions: async_sessionmaker[AsyncSession]
    lag: float | None = None
    """Last measured replay lag in seconds; None before the first measurement or when
    the server is not a streaming standby."""
    lag_measured_at: float | None = None
    failed_at: float | None = None


class ReadRouter:
    """Opens read-only sessions on a replica or the primary. `primary` and `replicas`:
    session factories on read-only engines (`create_read_only_engine`); the router
    begins no transaction of its own.

    `on_read(target)` is called once per opened session with "primary" or the replica's
    label; `on_lag(label, seconds)` after each lag measurement (None: not a streaming
    standby). `clock`: monotonic seconds (tests inject theirs)."""

    def __init__(
        self,
        primary: async_sessionmaker[AsyncSession],
        replicas: Sequence[async_sessionmaker[AsyncSession]] = (),
        policy: ReplicaPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_read: Callable[[str], None] | None = None,
        on_lag: Callable[[str, float | None], None] | None = None,
    ) -> None:
        self._primary = primary
        self.replicas = [
            Replica(replica_label(index), sessions)
            for index, sessions in enumerate(replicas, start=1)
        ]
        self.policy = policy or ReplicaPolicy()
        self._clock = clock
        self._turn = itertools.count()
        self.on_read = on_read
        self.on_lag = on_lag

    async def open(self) -> tuple[AsyncSession, str]:
        """A read-only session and the target serving it ("primary" or "replica-N").
        Never fails because of a replica. On the primary nothing connects until the
        first statement, which raises what the database being down raises."""
        for replica in self._in_turn():
            session = await self._try(replica)
            if session is not None:
                return session, self._served(replica.label)
        return self._primary(), self._served(PRIMARY)

    def _served(self, target: str) -> str:
        if self.on_read is not None:
            self.on_read(target)
        return target

    def _in_turn(self) -> list[Replica]:
        """The usable replicas, starting with the next one's turn."""
        if not self.replicas:
            return []
        start = next(self._turn) % len(self.replicas)
        ordered = self.replicas[start:] + self.replicas[:start]
        now = self._clock()
        return [replica for replica in ordered if self._usable(replica, now)]

    def _usable(self, replica: Replica, now: float) -> bool:
        if replica.failed_at is not None and now - replica.failed_at < self.policy.cooldown:
            return False
        if self._lag_fresh(replica, now):
            return self._lag_within_bound(replica)
        return True  # to be measured when opened

    def _lag_fresh(self, replica: Replica, now: float) -> bool:
        measured = replica.lag_measured_at
        return measured is not None and now - measured < self.policy.lag_ttl

    def _lag_within_bound(self, replica: Replica) -> bool:
        return replica.lag is not None and replica.lag <= self.policy.max_lag

    async def _try(self, replica: Replica) -> AsyncSession | None:
        """A read-only session on `replica`, or None (it failed or lags: logged)."""
        session = replica.sessions()
        try:
            async with asyncio.timeout(self.policy.open_timeout):
                if self._lag_fresh(replica, self._clock()):
                    # With no ping at checkout (engine.py), this is what finds a replica
                    # gone since it served last: here, where it is skipped. The session
                    # keeps this connection for the reads that follow.
                    await session.execute(PROBE)
                else:
                    await self._measure(replica, session)
        except UNAVAILABLE as exc:
            replica.failed_at = self._clock()
            log.warning(
                "%s unavailable (%s); reads skip it for %s s",
                replica.label,
                type(exc).__name__,
                self.policy.cooldown,
            )
            await _discard(session)
            return None
        except BaseException:
            await _discard(session)
            raise
        replica.failed_at = None
        if not self._lag_within_bound(replica):
            await _discard(session)
            return None
        return session

    async def _measure(self, replica: Replica, session: AsyncSession) -> None:
        value = (await session.execute(LAG_QUERY)).scalar()
        replica.lag = None if value is None else float(value)
        replica.lag_measured_at = self._clock()
        if self.on_lag is not None:
            self.on_lag(replica.label, replica.lag)
        if not self._lag_within_bound(replica):
            log.warning(
                "%s lag %s s is beyond %s s (None: not a streaming standby); reads skip it",
                replica.label,
                replica.lag,
                self.policy.max_lag,
            )


async def _discard(session: AsyncSession) -> None:
    """Close a session that will not serve; its own failure is the replica's, already
    handled, so it is not raised again."""
    with contextlib.suppress(Exception):
        await session.close()
