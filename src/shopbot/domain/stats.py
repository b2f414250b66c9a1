"""Figures for the admin's dashboard.

Revenue is net: what purchases moved to the `revenue` account minus what refunds of
orders moved back to balances, both read from the ledger (the source of truth for
money). Periods are rolling windows ending now, except "today", which starts at
midnight UTC. The chart's days are calendar days in UTC, the same measure per day.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    new_users: int
    orders: int
    """Orders placed in the period (including ones refunded since)."""
    revenue: Decimal
    """Purchases minus refunds of orders posted in the period."""


@dataclass(frozen=True, slots=True)
class PendingTopups:
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One calendar day (UTC) of the admin's chart."""

    day: date
    orders: int
    """Orders placed that day (including ones refunded since)."""
    revenue: Decimal
    """Net revenue posted that day: purchases minus refunds of orders, as in `PeriodFigures`."""


CHART_DAYS = 30
"""Days the admin's chart covers, today included (the issue asks for the last 30 days)."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    users_total: int
    today: PeriodFigures
    week: PeriodFigures
    month: PeriodFigures
    pending: PendingTopups


class StatsRepository(Protocol):
    async def users_total(self) -> int: ...

    async def period(self, since: datetime) -> PeriodFigures:
        """New users, orders and net revenue from `since` (inclusive) until now."""
        ...

    async def pending_topups(self) -> PendingTopups:
        """Top-up invoices still waiting for a payment."""
        ...

    async def daily(self, first: date, days: int) -> list[DayFigures]:
        """`days` consecutive UTC days from `first`, oldest first, one entry per day (a day
        without orders or ledger postings has 0 orders and 0.00 revenue)."""
        ...


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def dashboard(stats: StatsRepository, now: datetime) -> Dashboard:
    return Dashboard(
        users_total=await stats.users_total(),
        today=await stats.period(start_of_day(now)),
        week=await stats.period(now - timedelta(days=7)),
        month=await stats.period(now - timedelta(days=30)),
        pending=await stats.pending_topups(),
    )


def chart_days(now: datetime, days: int = CHART_DAYS) -> tuple[date, int]:
    """The first UTC day and the number of days of a chart of the last `days` days ending
    with today (`now` must be aware; its UTC date is "today")."""
    today = now.astimezone(UTC).date()
    return today - timedelta(days=days - 1), days
