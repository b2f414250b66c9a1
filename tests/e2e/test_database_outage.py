"""The database stops while Heleket delivers: the service answers 5xx, Heleket retries,
and once the database is back the payment is credited exactly once."""

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from shopbot.persistence import migrate
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user
from tests.e2e.heleket_stack import heleket_stack
from tests.pg_cluster import PgCluster


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


async def test_webhook_during_an_outage_is_retried_and_credited_once(cluster: PgCluster) -> None:
    await asyncio.to_thread(migrate.upgrade, cluster.url)
    engine = create_engine(cluster.url)
    await add_user(UnitOfWorkFactory(create_session_factory(engine)), 7)
    await engine.dispose()

    async with heleket_stack(cluster.url) as stack:
        invoice = await stack.topup(7, "15.00")
        ready_url = stack.webhook_url.replace("/webhook/heleket", "/health/ready")
        await asyncio.to_thread(cluster.stop)
        await stack.control(f"/invoices/{invoice.uuid}/pay")
        for _ in range(100):  # until Heleket has been refused a few times
            refused = [d for d in await stack.deliveries(invoice.uuid) if d["status_code"] == 503]
            if len(refused) >= 3:
                break
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient() as client:
            not_ready = await client.get(ready_url)
        await asyncio.to_thread(cluster.start)
        await stack.settle()
        async with httpx.AsyncClient() as client:
            ready = await client.get(ready_url)

        deliveries = await stack.deliveries(invoice.uuid)
        assert len(refused) >= 3
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["database"] == "down: connection refused"
        assert ready.status_code == 200
        assert [d["status"] for d in deliveries if d["ok"]] == ["check", "paid"]
        assert all(d["status_code"] in (200, 503) for d in deliveries if "status_code" in d)
        assert await stack.balance(7) == Decimal("15.00")
        assert await stack.sound()
