"""The periodic ledger check behind `shopbot_ledger_check_ok` and
`shopbot_payments_pending`: what `shopbot ledger verify` checks, run by each webhook
service process on its own (a read-only query; every process must publish a value, or
its scrape would show the gauge's initial 0 and look like a failed check)."""

import asyncio
import logging
import time

from shopbot.domain.ledger.verification import LedgerReport
from shopbot.domain.uow import UnitOfWorkFactory
from shopbot.observability.metrics import LEDGER_CHECK_OK, LEDGER_CHECK_TIMESTAMP, PAYMENTS_PENDING

log = logging.getLogger(__name__)


async def check_ledger(uows: UnitOfWorkFactory) -> LedgerReport:
    """Verify the ledger (postings sum to zero, balances equal their postings, no user
    below zero) and count pending Heleket invoices, in one read-only unit of work; set
    the gauges. Raises what the database raises (the gauges then keep their values and
    the timestamp goes stale, which is what an alert on its age is for)."""
    async with uows() as uow:
        report = await uow.ledger.verify()
        pending = await uow.topups.count_pending()
    LEDGER_CHECK_OK.set(1 if report.sound else 0)
    LEDGER_CHECK_TIMESTAMP.set(time.time())
    PAYMENTS_PENDING.labels("heleket").set(pending)
    if not report.sound:
        log.error("ledger check: the ledger is NOT sound (run `shopbot ledger verify`)")
    return report


async def check_ledger_periodically(uows: UnitOfWorkFactory, interval: float) -> None:
    """`check_ledger` now and then every `interval` seconds until cancelled; a failed
    run is logged and tried again at the next tick."""
    while True:
        try:
            await check_ledger(uows)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ledger check failed; retrying in %s s", interval)
        await asyncio.sleep(interval)
