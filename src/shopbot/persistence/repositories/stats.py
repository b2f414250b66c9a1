from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Date, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from shopbot.domain.ledger import SystemAccount
from shopbot.domain.payments.models import InvoiceState
from shopbot.domain.stats import DayFigures, PendingTopups, PeriodFigures
from shopbot.persistence.models import (
    AccountRow,
    LedgerEntryRow,
    LedgerTransactionRow,
    OrderRow,
    TopupInvoiceRow,
    UserRow,
)
from shopbot.persistence.types import Money


def _sum(column: InstrumentedAttribute[Decimal]) -> ColumnElement[Decimal]:
    """SUM that is 0.00 (not NULL) over no rows, keeping the Money type on every database."""
    return func.coalesce(func.sum(column), literal(Decimal(0), Money()))


def _utc_day(session: AsyncSession, column: InstrumentedAttribute[datetime]) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp. PostgreSQL's DATE(timestamptz) would take the
    session's time zone; SQLite stores the UTC wall clock `UTCDateTime` was given."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column), type_=Date)
    return func.date(column, type_=Date)


def _revenue_entries() -> ColumnElement[bool]:
    # Purchases credit `revenue`; refunds of orders debit `refunds` (negative entries),
    # so the sum over both accounts is the net revenue.
    return AccountRow.code.in_([SystemAccount.REVENUE.value, SystemAccount.REFUNDS.value])


class SqlStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def users_total(self) -> int:
        return await self._session.scalar(select(func.count(UserRow.id))) or 0

    async def period(self, since: datetime) -> PeriodFigures:
        new_users = await self._session.scalar(
            select(func.count(UserRow.id)).where(UserRow.created_at >= since)
        )
        orders = await self._session.scalar(
            select(func.count(OrderRow.id)).where(OrderRow.created_at >= since)
        )
        revenue = await self._session.scalar(
            select(_sum(LedgerEntryRow.amount))
            .join(AccountRow, AccountRow.id == LedgerEntryRow.account_id)
            .join(LedgerTransactionRow, LedgerTransactionRow.id == LedgerEntryRow.transaction_id)
            .where(_revenue_entries(), LedgerTransactionRow.created_at >= since)
        )
        return PeriodFigures(
            new_users=new_users or 0,
            orders=orders or 0,
            revenue=revenue if revenue is not None else Decimal("0.00"),
        )

    async def pending_topups(self) -> PendingTopups:
        row = (
            await self._session.execute(
                select(func.count(TopupInvoiceRow.id), _sum(TopupInvoiceRow.amount)).where(
                    TopupInvoiceRow.state == InvoiceState.PENDING.value
                )
            )
        ).one()
        return PendingTopups(count=row[0] or 0, amount=row[1])

    async def daily(self, first: date, days: int) -> list[DayFigures]:
        """Orders (by `orders.created_at`) and net revenue (ledger postings to `revenue` and
        `refunds`, by `ledger_transactions.created_at`) per UTC day: two grouped queries over
        `[first 00:00 UTC, first + days)`, then every day filled in, oldest first."""
        start = datetime.combine(first, time.min, tzinfo=UTC)
        end = start + timedelta(days=days)
        order_day = _utc_day(self._session, OrderRow.created_at)
        orders = await self._session.execute(
            select(order_day, func.count(OrderRow.id))
            .where(OrderRow.created_at >= start, OrderRow.created_at < end)
            .group_by(order_day)
        )
        posting_day = _utc_day(self._session, LedgerTransactionRow.created_at)
        revenue = await self._session.execute(
            select(posting_day, _sum(LedgerEntryRow.amount))
            .join(AccountRow, AccountRow.id == LedgerEntryRow.account_id)
            .join(LedgerTransactionRow, LedgerTransactionRow.id == LedgerEntryRow.transaction_id)
            .where(
                _revenue_entries(),
                LedgerTransactionRow.created_at >= start,
                LedgerTransactionRow.created_at < end,
            )
            .group_by(posting_day)
        )
        orders_by_day: dict[date, int] = {day: count for day, count in orders}
        revenue_by_day: dict[date, Decimal] = {day: amount for day, amount in revenue}
        return [
            DayFigures(
                day=day,
                orders=orders_by_day.get(day, 0),
                revenue=revenue_by_day.get(day, Decimal("0.00")),
            )
            for day in (first + timedelta(days=n) for n in range(days))
        ]
