"""The admin dashboard's figures and the user look-ups behind the admin screens and the
broadcast, on both databases."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from shopbot.domain.orders.use_cases import purchase, refund_order
from shopbot.domain.payments.models import InvoiceState
from shopbot.domain.stats import dashboard, start_of_day
from shopbot.persistence.models import LedgerTransactionRow, OrderRow, UserRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user


async def buy(uow_factory: UnitOfWorkFactory, user_id: int, sku: str, key: str) -> int:
    async with uow_factory() as uow:
        result = await purchase(uow, user_id=user_id, sku=sku, request_key=key)
        await uow.commit()
        return result.order.id


async def backdate(uow_factory: UnitOfWorkFactory, *, days: float, **targets: list[int]) -> None:
    """Move users, orders and ledger transactions `days` into the past."""
    moment = datetime.now(UTC) - timedelta(days=days)
    tables: dict[str, Any] = {
        "users": UserRow,
        "orders": OrderRow,
        "transactions": LedgerTransactionRow,
    }
    async with uow_factory() as uow:
        for name, ids in targets.items():
            table = tables[name]
            await uow.session.execute(
                update(table).where(table.id.in_(ids)).values(created_at=moment)
            )
        await uow.commit()


async def order_transactions(uow_factory: UnitOfWorkFactory, order_id: int) -> list[int]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(
            select(LedgerTransactionRow.id).where(
                LedgerTransactionRow.idempotency_key.like(f"order:{order_id}:%")
            )
        )
        return list(rows)


async def test_empty_shop(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        board = await dashboard(uow.stats, datetime.now(UTC))
    assert board.users_total == 0
    for period in (board.today, board.week, board.month):
        assert (period.new_users, period.orders, period.revenue) == (0, 0, Decimal("0.00"))
    assert (board.pending.count, board.pending.amount) == (0, Decimal("0.00"))


async def test_periods_count_users_orders_and_net_revenue(any_uow: UnitOfWorkFactory) -> None:
    for user_id in (1, 2, 3, 4):
        await add_user(any_uow, user_id, balance="100.00")
    await add_product(any_uow, "cheap", price="2.50", stock=[f"c-{i}" for i in range(10)])
    await add_product(any_uow, "dear", price="10.00", stock=[f"d-{i}" for i in range(10)])

    today = [await buy(any_uow, 1, "cheap", "a"), await buy(any_uow, 2, "dear", "b")]
    refunded_today = await buy(any_uow, 1, "dear", "c")
    async with any_uow() as uow:
        await refund_order(uow, refunded_today, reason="test", actor="test")
        await uow.commit()
    ten_days_ago = await buy(any_uow, 3, "dear", "d")
    forty_days_ago = await buy(any_uow, 4, "cheap", "e")

    await backdate(any_uow, days=3, users=[2])
    await backdate(any_uow, days=10, users=[3])
    await backdate(any_uow, days=40, users=[4])
    await backdate(
        any_uow,
        days=10,
        orders=[ten_days_ago],
        transactions=await order_transactions(any_uow, ten_days_ago),
    )
    await backdate(
        any_uow,
        days=40,
        orders=[forty_days_ago],
        transactions=await order_transactions(any_uow, forty_days_ago),
    )

    now = datetime.now(UTC)
    async with any_uow() as uow:
        board = await dashboard(uow.stats, now)

    assert board.users_total == 4
    assert board.today.new_users == 1
    assert board.week.new_users == 2
    assert board.month.new_users == 3
    # Orders placed, refunded ones included; revenue is purchases minus refunds.
    assert board.today.orders == len(today) + 1
    assert board.today.revenue == Decimal("12.50")
    assert board.week.orders == 3
    assert board.week.revenue == Decimal("12.50")
    assert board.month.orders == 4
    assert board.month.revenue == Decimal("22.50")


def test_today_starts_at_midnight_utc() -> None:
    now = datetime(2026, 3, 4, 15, 16, 17, 1234, tzinfo=UTC)
    assert start_of_day(now) == datetime(2026, 3, 4, tzinfo=UTC)


async def test_refund_of_an_old_order_lowers_todays_revenue(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="50.00")
    await add_product(any_uow, "dear", price="10.00", stock=["x", "y"])
    old = await buy(any_uow, 1, "dear", "old")
    await backdate(
        any_uow, days=20, orders=[old], transactions=await order_transactions(any_uow, old)
    )
    async with any_uow() as uow:
        await refund_order(uow, old, reason="late complaint", actor="test")
        await uow.commit()
        board = await dashboard(uow.stats, datetime.now(UTC))
    assert board.today.orders == 0
    assert board.today.revenue == Decimal("-10.00")
    assert board.month.revenue == Decimal("0.00")


async def test_pending_topups(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1)
    async with any_uow() as uow:
        for n, amount in enumerate(("5.00", "7.25", "1.00")):
            await uow.topups.create(
                user_id=1,
                order_id=f"topup-1-{n}",
                request_key=f"k{n}",
                amount=Decimal(amount),
                currency="USD",
            )
        await uow.commit()
    async with any_uow() as uow:
        closed = await uow.topups.get_by_order_id("topup-1-2")
        assert closed is not None
        await uow.topups.transition(
            closed.id, allowed=frozenset({InvoiceState.PENDING}), to=InvoiceState.CLOSED
        )
        await uow.commit()
        board = await dashboard(uow.stats, datetime.now(UTC))
    assert board.pending.count == 2
    assert board.pending.amount == Decimal("12.25")


async def test_find_by_username(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        await uow.users.register(10, username="Alice_Shop", language="en")
        await uow.users.register(11, username=None, language="ru")
        await uow.commit()
    async with any_uow() as uow:
        for query in ("Alice_Shop", "@alice_shop", "  @ALICE_SHOP "):
            found = await uow.users.find_by_username(query)
            assert found is not None, query
            assert found.id == 10
        assert await uow.users.find_by_username("bob") is None
        assert await uow.users.find_by_username("@") is None


async def test_username_moved_to_another_account(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        await uow.users.register(10, username="nick", language="en")
        await uow.commit()
    await backdate(any_uow, days=1, users=[10])
    async with any_uow() as uow:
        await uow.session.execute(
            update(UserRow)
            .where(UserRow.id == 10)
            .values(updated_at=datetime.now(UTC) - timedelta(days=1))
        )
        await uow.users.register(20, username="nick", language="en")
        await uow.commit()
        found = await uow.users.find_by_username("nick")
    assert found is not None
    assert found.id == 20


async def test_reachable_pages_skip_unreachable_and_banned(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        for user_id in range(1, 8):
            await uow.users.register(user_id, username=None, language="en")
        await uow.users.set_blocked(4, True)
        await uow.users.mark_unreachable([2, 6], datetime.now(UTC))
        await uow.commit()
    async with any_uow() as uow:
        first = await uow.users.reachable_ids(after_id=0, limit=2)
        second = await uow.users.reachable_ids(after_id=first[-1], limit=2)
        third = await uow.users.reachable_ids(after_id=second[-1], limit=2)
        assert (first, second, third) == ([1, 3], [5, 7], [])
        assert await uow.users.count_reachable() == 4
        assert await uow.users.unreachable_since(2) is not None
        assert await uow.users.unreachable_since(1) is None


async def test_mark_unreachable_keeps_the_first_moment(any_uow: UnitOfWorkFactory) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    async with any_uow() as uow:
        await uow.users.register(1, username=None, language="en")
        await uow.users.mark_unreachable([1], first)
        await uow.users.mark_unreachable([1], first + timedelta(days=3))
        await uow.users.mark_unreachable([], first)
        await uow.commit()
        assert await uow.users.unreachable_since(1) == first


async def test_writing_to_the_bot_makes_a_user_reachable_again(any_uow: UnitOfWorkFactory) -> None:
    async with any_uow() as uow:
        await uow.users.register(1, username="u", language="en")
        await uow.users.register(2, username="v", language="en")
        await uow.users.mark_unreachable([1, 2], datetime.now(UTC))
        await uow.commit()
    async with any_uow() as uow:
        await uow.users.register(1, username="u", language="en")  # the middleware, on an update
        await uow.users.mark_reachable(2)
        await uow.commit()
        assert await uow.users.unreachable_since(1) is None
        assert await uow.users.unreachable_since(2) is None
        assert await uow.users.reachable_ids(after_id=0, limit=10) == [1, 2]
