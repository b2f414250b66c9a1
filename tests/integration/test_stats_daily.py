"""The admin chart's data: orders and net revenue per UTC day (`StatsRepository.daily`),
exact to the cent, on both databases."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text, update

from shopbot.domain.idempotency_keys import order_debit, order_refund
from shopbot.domain.orders.use_cases import purchase, refund_order
from shopbot.domain.stats import DayFigures, chart_days
from shopbot.persistence.models import LedgerTransactionRow, OrderRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user

FIRST = date(2026, 3, 1)


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, 1, hour, minute, second, micro, tzinfo=UTC) + timedelta(days=day - 1)


async def order_at(
    uows: UnitOfWorkFactory, user_id: int, sku: str, moment: datetime, key: str
) -> int:
    """A purchase whose order and debit transaction are dated `moment`."""
    async with uows() as uow:
        order_id = (await purchase(uow, user_id=user_id, sku=sku, request_key=key)).order.id
        await uow.session.execute(
            update(OrderRow).where(OrderRow.id == order_id).values(created_at=moment)
        )
        await uow.session.execute(
            update(LedgerTransactionRow)
            .where(LedgerTransactionRow.idempotency_key == order_debit(order_id))
            .values(created_at=moment)
        )
        await uow.commit()
        return order_id


async def refund_at(uows: UnitOfWorkFactory, order_id: int, moment: datetime) -> None:
    async with uows() as uow:
        await refund_order(uow, order_id, reason="test", actor="test")
        await uow.session.execute(
            update(LedgerTransactionRow)
            .where(LedgerTransactionRow.idempotency_key == order_refund(order_id))
            .values(created_at=moment)
        )
        await uow.commit()


async def test_days_sum_exactly_and_empty_days_are_zero(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="500.00")
    await add_product(any_uow, "third", price="3.33", stock=[f"t-{i}" for i in range(10)])
    await add_product(any_uow, "dear", price="10.00", stock=[f"d-{i}" for i in range(10)])
    await order_at(any_uow, 1, "third", at(1, 0, 0, 0), "first-moment")  # day 1 starts
    await order_at(any_uow, 1, "third", at(0, 23, 59, 59, 999999), "before")  # outside
    for n in range(3):  # 3 x 3.33 = 9.99 exactly, not 9.990000000000002
        await order_at(any_uow, 1, "third", at(2, 23, 59, 59, 999999), f"late-{n}")
    refunded = await order_at(any_uow, 1, "dear", at(3), "refunded")
    await refund_at(any_uow, refunded, at(4, 1))  # lowers day 4, not day 3
    await order_at(any_uow, 1, "dear", at(6, 0, 0, 0), "after")  # the window has ended

    async with any_uow() as uow:
        figures = await uow.stats.daily(FIRST, 5)

    assert figures == [
        DayFigures(date(2026, 3, 1), orders=1, revenue=Decimal("3.33")),
        DayFigures(date(2026, 3, 2), orders=3, revenue=Decimal("9.99")),
        DayFigures(date(2026, 3, 3), orders=1, revenue=Decimal("10.00")),
        DayFigures(date(2026, 3, 4), orders=0, revenue=Decimal("-10.00")),
        DayFigures(date(2026, 3, 5), orders=0, revenue=Decimal("0.00")),
    ]
    assert all(isinstance(f.revenue, Decimal) for f in figures)


async def test_an_empty_shop_has_thirty_zero_days(any_uow: UnitOfWorkFactory) -> None:
    first, days = chart_days(datetime(2026, 3, 30, 8, tzinfo=UTC))
    async with any_uow() as uow:
        figures = await uow.stats.daily(first, days)
    assert [f.day for f in figures] == [date(2026, 3, 1) + timedelta(days=n) for n in range(30)]
    assert {(f.orders, f.revenue) for f in figures} == {(0, Decimal("0.00"))}


async def test_days_are_utc_whatever_the_sessions_time_zone(pg_uow: UnitOfWorkFactory) -> None:
    """PostgreSQL's DATE(timestamptz) follows the session's TimeZone; the chart must not."""
    await add_user(pg_uow, 1, balance="50.00")
    await add_product(pg_uow, "dear", price="10.00", stock=["a", "b"])
    await order_at(pg_uow, 1, "dear", at(1, 23, 30), "late-evening-utc")  # day 2 in Tokyo
    async with pg_uow() as uow:
        await uow.session.execute(text("SET LOCAL TIME ZONE 'Asia/Tokyo'"))
        figures = await uow.stats.daily(FIRST, 2)
    assert [(f.orders, f.revenue) for f in figures] == [(1, Decimal("10.00")), (0, Decimal("0.00"))]


def test_the_chart_ends_today_in_utc() -> None:
    late_in_new_york = datetime.fromisoformat("2026-03-30T22:00:00-05:00")  # 31st in UTC
    assert chart_days(late_in_new_york) == (date(2026, 3, 2), 30)
    assert chart_days(datetime(2026, 3, 30, tzinfo=UTC), days=1) == (date(2026, 3, 30), 1)
