"""The periodic ledger check on real PostgreSQL: a sound ledger reads 1, a stored balance
that disagrees with its postings reads 0; open invoices are counted; the webhook service
publishes both on its `/metrics`."""

import asyncio
import time

from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.observability.metrics.ledger import check_ledger
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user
from tests.integration.webhook_fixtures import open_invoice, webhook_service, webhook_settings
from tests.metrics_scrape import parse, value


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_sound_then_broken_ledger(pg_engine: AsyncEngine, pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 41, balance="12.00")
    await open_invoice(pg_uow, user_id=42)
    started = time.time()

    assert (await check_ledger(pg_uow)).sound
    assert gauge("shopbot_ledger_check_ok") == 1
    assert (gauge("shopbot_ledger_check_timestamp_seconds") or 0) >= started
    assert gauge("shopbot_payments_pending", provider="heleket") == 1

    async with pg_engine.begin() as connection:  # a balance its postings do not explain
        await connection.execute(
            text("UPDATE accounts SET balance = balance + 1 WHERE user_id = 41")
        )
    assert not (await check_ledger(pg_uow)).sound
    assert gauge("shopbot_ledger_check_ok") == 0


async def test_webhook_service_runs_the_check(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    settings = webhook_settings(pg_url, ledger_check_interval_seconds=1)
    started = time.time()
    async with webhook_service(settings) as client:
        deadline = time.monotonic() + 10
        while True:
            samples = parse((await client.get("/metrics")).text)
            stamp = value(samples, "shopbot_ledger_check_timestamp_seconds")
            if stamp >= started or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    assert stamp >= started
    assert value(samples, "shopbot_ledger_check_ok") == 1
    assert value(samples, "shopbot_payments_pending", provider="heleket") == 1
