from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from shopbot.domain.ledger import SystemAccount
from shopbot.domain.payments.models import InvoiceState
from shopbot.domain.stats import PendingTopups, PeriodFigures
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
        # Purchases credit `revenue`; refunds of orders debit `refunds` (negative entries),
        # so the sum over both accounts is the net revenue of the period.
        revenue = await self._session.scalar(
            select(_sum(LedgerEntryRow.amount))
            .join(AccountRow, AccountRow.id == LedgerEntryRow.account_id)
            .join(LedgerTransactionRow, LedgerTransactionRow.id == LedgerEntryRow.transaction_id)
            .where(
                AccountRow.code.in_([SystemAccount.REVENUE.value, SystemAccount.REFUNDS.value]),
                LedgerTransactionRow.created_at >= since,
            )
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
