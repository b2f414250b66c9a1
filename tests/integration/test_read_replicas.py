"""Read-only units of work on a real streaming standby (pg_basebackup of a throwaway
primary): served by the replica, READ ONLY wherever they run, and on the primary when the
replica is down or lags beyond the bound; balances are read on the primary only."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.domain.catalog.models import LocalizedText
from shopbot.domain.catalog.spec import CategorySpec
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.ledger.use_cases import credit_topup
from shopbot.persistence.engine import (
    create_engine,
    create_read_only_engine,
    create_session_factory,
)
from shopbot.persistence.replicas import ReadRouter, ReplicaPolicy
from shopbot.persistence.uow import ReadOnlyUnitOfWorkFactory, UnitOfWorkFactory
from tests.conftest import add_product, add_user
from tests.replication import (
    Replication,
    measured_lag,
    pause_replay,
    replayed,
    resume_replay,
    running_replication,
    streaming,
    until,
)

pytestmark = pytest.mark.subprocess  # starts two PostgreSQL servers

IN_RECOVERY = text("SELECT pg_is_in_recovery()")


@dataclass
class Clock:
    """The router's monotonic clock, moved by the test (lag TTL and cool-down)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Seen:
    reads: list[str] = field(default_factory=list)
    lags: list[tuple[str, float | None]] = field(default_factory=list)


@dataclass
class Cluster:
    replication: Replication
    primary: AsyncEngine
    standby: AsyncEngine
    """Read-only, as the reads' engines are (`open_reads`); so is `primary_reads`."""
    primary_reads: AsyncEngine
    uows: UnitOfWorkFactory

    def reads(
        self, policy: ReplicaPolicy, clock: Clock, seen: Seen, replicas: int = 1
    ) -> ReadOnlyUnitOfWorkFactory:
        router = ReadRouter(
            create_session_factory(self.primary_reads),
            [create_session_factory(self.standby)] * replicas,
            policy,
            clock=clock,
            on_read=seen.reads.append,
            on_lag=lambda label, lag: seen.lags.append((label, lag)),
        )
        return ReadOnlyUnitOfWorkFactory(router)


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    async with running_replication() as replication:
        primary = create_engine(replication.primary.url)
        standby = create_read_only_engine(replication.standby.url)
        primary_reads = create_read_only_engine(replication.primary.url)
        uows = UnitOfWorkFactory(create_session_factory(primary))
        await add_product(uows, "key-1", stock=["K1", "K2"])
        await replayed(replication)
        try:
            yield Cluster(replication, primary, standby, primary_reads, uows)
        finally:
            await primary_reads.dispose()
            await standby.dispose()
            await primary.dispose()


async def test_reads_are_served_by_the_replica(cluster: Cluster) -> None:
    seen = Seen()
    reads = cluster.reads(ReplicaPolicy(), Clock(), seen)

    async with reads() as uow:
        in_recovery = (await uow.session.execute(IN_RECOVERY)).scalar()
        products = await uow.catalog.list_products()
        left = await uow.stock.available(products[0].id)

    assert in_recovery is True
    assert uow.target == "replica-1"
    assert [p.sku for p in products] == ["key-1"]
    assert left == 2
    assert seen.reads == ["replica-1"]
    assert seen.lags == [("replica-1", 0.0)]  # caught up: receive = replay


async def test_replicas_take_turns_and_the_lag_is_measured_once_per_ttl(cluster: Cluster) -> None:
    seen = Seen()
    reads = cluster.reads(ReplicaPolicy(lag_ttl=2.0), Clock(), seen, replicas=2)

    for _ in range(4):
        async with reads():
            pass

    assert seen.reads == ["replica-1", "replica-2", "replica-1", "replica-2"]
    assert [label for label, _ in seen.lags] == ["replica-1", "replica-2"]


@pytest.mark.parametrize("replicas", [1, 0], ids=["replica", "primary"])
async def test_a_write_through_reads_fails_wherever_it_runs(
    cluster: Cluster, replicas: int
) -> None:
    reads = cluster.reads(ReplicaPolicy(), Clock(), Seen(), replicas=replicas)
    category = CategorySpec(
        slug=f"c-{uuid.uuid4().hex[:8]}", title=LocalizedText("к", "c"), position=1
    )

    async with reads() as uow:
        in_recovery = (await uow.session.execute(IN_RECOVERY)).scalar()
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await uow.catalog.upsert_category(category)  # not on the port: forced here

    assert in_recovery is (replicas == 1)
    async with cluster.uows() as uow:
        assert all(c.slug != category.slug for c in await uow.catalog.list_categories())


async def test_a_stopped_replica_falls_back_to_the_primary_until_it_is_back(
    cluster: Cluster,
) -> None:
    clock, seen = Clock(), Seen()
    policy = ReplicaPolicy(cooldown=30.0)
    reads = cluster.reads(policy, clock, seen)
    async with reads():  # the pool holds a connection to the replica
        pass
    standby = cluster.replication.standby

    await asyncio.to_thread(standby.stop)
    try:
        async with reads() as uow:
            down = (await uow.session.execute(IN_RECOVERY)).scalar()
            products = await uow.catalog.list_products()
        clock.now += policy.cooldown - 1
        async with reads() as cooling:  # not even tried while it cools down
            pass
    finally:
        await asyncio.to_thread(standby.start)
    await streaming(standby)
    clock.now += 1
    async with reads() as back:
        again = (await back.session.execute(IN_RECOVERY)).scalar()

    assert (uow.target, down, [p.sku for p in products]) == ("primary", False, ["key-1"])
    assert cooling.target == "primary"
    assert (back.target, again) == ("replica-1", True)
    assert seen.reads == ["replica-1", "primary", "primary", "replica-1"]
    assert [label for label, _ in seen.lags] == ["replica-1", "replica-1"]


async def test_a_replica_lagging_beyond_the_bound_is_skipped(cluster: Cluster) -> None:
    clock, seen = Clock(), Seen()
    policy = ReplicaPolicy(max_lag=0.5, lag_ttl=2.0)
    reads = cluster.reads(policy, clock, seen)
    standby = cluster.replication.standby
    await replayed(cluster.replication)  # caught up, whatever the tests before did
    async with reads() as fresh:
        pass

    await pause_replay(standby)
    try:
        await add_user(cluster.uows, 4242)  # a write the standby receives but cannot replay

        async def beyond_bound() -> bool:
            lag = await measured_lag(standby)
            return lag is not None and lag > policy.max_lag

        await until(beyond_bound, "the paused standby's lag passes the bound")
        async with reads() as cached:  # the last measurement still stands
            pass
        clock.now += policy.lag_ttl
        async with reads() as lagging:
            in_recovery = (await lagging.session.execute(IN_RECOVERY)).scalar()
        async with reads() as skipped:  # known to lag: not opened until the TTL passes
            pass
    finally:
        await resume_replay(standby)
    await replayed(cluster.replication)
    clock.now += policy.lag_ttl
    async with reads() as caught_up:
        pass

    assert (fresh.target, cached.target) == ("replica-1", "replica-1")
    assert (lagging.target, in_recovery, skipped.target) == ("primary", False, "primary")
    assert caught_up.target == "replica-1"
    lags = [lag for _, lag in seen.lags]
    assert len(lags) == 3
    assert lags[0] == 0.0
    assert lags[1] is not None
    assert lags[1] > policy.max_lag
    assert lags[2] == 0.0


async def test_the_balance_screen_is_read_on_the_primary_while_a_replica_lags(
    cluster: Cluster,
) -> None:
    """With the replica behind (replay paused, a bound generous enough that it still
    serves), the balance screen's statement, read on the primary, has the new top-up in
    its balance and its lines; the replica has not replayed it yet."""
    user_id = 5151
    await add_user(cluster.uows, user_id)
    await replayed(cluster.replication)
    reads = cluster.reads(ReplicaPolicy(max_lag=3600), Clock(), Seen())
    standby = cluster.replication.standby
    memo = f"while the replica lags {uuid.uuid4()}"
    topped_up = text("SELECT count(*) FROM ledger_transactions WHERE memo = :memo")

    await pause_replay(standby)
    try:
        async with cluster.uows() as uow:
            await credit_topup(
                uow,
                user_id=user_id,
                amount=Decimal("25.00"),
                provider=SystemAccount.HELEKET,
                idempotency_key=f"test-topup:{uuid.uuid4()}",
                memo=memo,
            )
            await uow.commit()
        async with cluster.uows.autocommit() as primary:
            statement = await primary.ledger.statement(user_account(user_id), 10)
        async with reads() as view:
            on_replica = (await view.session.execute(topped_up, {"memo": memo})).scalar()
    finally:
        await resume_replay(standby)

    assert statement.balance == Decimal("25.00")
    assert [line.memo for line in statement.lines] == [memo]
    assert view.target == "replica-1"
    assert on_replica == 0
