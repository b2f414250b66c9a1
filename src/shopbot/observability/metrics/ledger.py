"""The periodic ledger check behind `shopbot_ledger_check_ok` and
`shopbot_payments_pending`: what `shopbot ledger verify` checks (a full scan of the
ledger), run by one webhook service instance at a time, the leader of the lease
`ledger-check` (webhook/app.py, jobs/leader.py). The other instances publish the
gauges' initial values (0, and a timestamp of 0): the alerts and the dashboard read the
most recent check's result, the series whose timestamp is the job's latest
(deploy/prometheus/rules/alerts.yml)."""

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
