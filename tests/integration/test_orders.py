"""Purchases, refunds and fulfilment on both databases."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import (
    InsufficientFunds,
    OrderStateError,
    OutOfStock,
    ProductNotFound,
    ProductUnavailable,
    UserBlocked,
)
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.orders.use_cases import fulfil_order, purchase, refund_order
from shopbot.persistence.models import LedgerTransactionRow, OrderRow, StockItemRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user, product_spec


async def buy(uow_factory: UnitOfWorkFactory, user_id: int, sku: str, key: str):
    async with uow_factory() as uow:
        result = await purchase(uow, user_id=user_id, sku=sku, request_key=key)
        await uow.commit()
        return result


async def balance_of(uow_factory: UnitOfWorkFactory, account: str) -> Decimal:
    async with uow_factory() as uow:
        return await uow.ledger.balance(account)


async def count(uow_factory: UnitOfWorkFactory, column) -> int:
    async with uow_factory() as uow:
        return (await uow.session.execute(select(func.count(column)))).scalar_one()


async def assert_sound(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        report = await uow.ledger.verify()
    assert report.sound, report


async def test_stock_purchase_debits_and_delivers_one_item(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="25.00")
    await add_product(any_uow, "key", price="9.99", stock=["K-1", "K-2"])

    result = await buy(any_uow, 1, "key", "tap-1")

    assert result.created
    assert result.order.status is OrderStatus.DELIVERED
    assert result.order.delivery == "K-1"
    assert result.order.price == Decimal("9.99")
    assert await balance_of(any_uow, user_account(1)) == Decimal("15.01")
    assert await balance_of(any_uow, SystemAccount.REVENUE) == Decimal("9.99")
    async with any_uow() as uow:
        assert await uow.stock.available(result.order.product_id) == 1
    await assert_sound(any_uow)


async def test_unlimited_and_manual_products(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="100")
    await add_product(any_uow, "guide", ProductKind.UNLIMITED, price="5")
    await add_product(any_uow, "custom", ProductKind.MANUAL, price="20")

    first = await buy(any_uow, 1, "guide", "a")
    second = await buy(any_uow, 1, "guide", "b")
    manual = await buy(any_uow, 1, "custom", "c")

    assert first.order.delivery == second.order.delivery == "content of guide"
    assert manual.order.status is OrderStatus.AWAITING_FULFILMENT
    assert manual.order.delivery is None
    async with any_uow() as uow:
        done = await fulfil_order(uow, manual.order.id, note="your logo is attached")
        await uow.commit()
    assert done.status is OrderStatus.FULFILLED
    assert done.delivery == "your logo is attached"
    async with any_uow() as uow:
        with pytest.raises(OrderStateError):
            await fulfil_order(uow, manual.order.id, note="again")
    assert await balance_of(any_uow, user_account(1)) == Decimal("70.00")
    await assert_sound(any_uow)


async def test_insufficient_balance_changes_nothing(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="9.98")
    await add_product(any_uow, "key", price="9.99", stock=["K-1"])
    orders_before = await count(any_uow, OrderRow.id)
    transactions_before = await count(any_uow, LedgerTransactionRow.id)

    with pytest.raises(InsufficientFunds):
        await buy(any_uow, 1, "key", "tap")

    assert await balance_of(any_uow, user_account(1)) == Decimal("9.98")
    assert await count(any_uow, OrderRow.id) == orders_before
    assert await count(any_uow, LedgerTransactionRow.id) == transactions_before
    async with any_uow() as uow:
        assert (
            await uow.session.scalar(select(func.count()).where(StockItemRow.order_id.is_not(None)))
            == 0
        )
    await assert_sound(any_uow)


async def test_user_without_account_cannot_buy(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1)
    await add_product(any_uow, "key", stock=["K-1"])
    with pytest.raises(InsufficientFunds):
        await buy(any_uow, 1, "key", "tap")
    await assert_sound(any_uow)


async def test_same_request_key_buys_once(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="50")
    await add_product(any_uow, "key", stock=["K-1", "K-2"])

    first = await buy(any_uow, 1, "key", "confirm:42")
    again = await buy(any_uow, 1, "key", "confirm:42")

    assert first.created
    assert not again.created
    assert again.order.id == first.order.id
    assert again.order.delivery == "K-1"
    assert await balance_of(any_uow, user_account(1)) == Decimal("40.00")


async def test_unavailable_products_are_refused(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="50")
    await add_product(any_uow, "empty", stock=None)
    async with any_uow() as uow:
        await uow.catalog.upsert_product(product_spec("off", active=False), None)
        await uow.commit()

    with pytest.raises(OutOfStock):
        await buy(any_uow, 1, "empty", "a")
    with pytest.raises(ProductUnavailable):
        await buy(any_uow, 1, "off", "b")
    with pytest.raises(ProductNotFound):
        await buy(any_uow, 1, "nope", "c")
    assert await balance_of(any_uow, user_account(1)) == Decimal("50.00")
    assert await count(any_uow, OrderRow.id) == 0


async def test_blocked_user_cannot_buy(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="50")
    await add_product(any_uow, "key", stock=["K-1"])
    async with any_uow() as uow:
        await uow.users.set_blocked(1, True)
        await uow.commit()
    with pytest.raises(UserBlocked):
        await buy(any_uow, 1, "key", "a")


async def test_refund_returns_price_once(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="10")
    await add_product(any_uow, "key", stock=["K-1"])
    order = (await buy(any_uow, 1, "key", "a")).order
    assert await balance_of(any_uow, user_account(1)) == Decimal("0.00")

    async with any_uow() as uow:
        refunded = await refund_order(uow, order.id, reason="broken key", actor="admin:7")
        await uow.commit()
    async with any_uow() as uow:
        with pytest.raises(OrderStateError):
            await refund_order(uow, order.id, reason="again", actor="admin:7")

    assert refunded.status is OrderStatus.REFUNDED
    assert await balance_of(any_uow, user_account(1)) == Decimal("10.00")
    assert await balance_of(any_uow, SystemAccount.REFUNDS) == Decimal("-10.00")
    await assert_sound(any_uow)


async def test_verify_detects_tampering(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, balance="10")
    await assert_sound(any_uow)
    async with any_uow() as uow:
        from sqlalchemy import update

        from shopbot.persistence.models import AccountRow

        await uow.session.execute(
            update(AccountRow)
            .where(AccountRow.code == user_account(1))
            .values(balance=Decimal("11"))
        )
        await uow.commit()
        report = await uow.ledger.verify()
    assert not report.sound
    assert [m.account for m in report.mismatched_balances] == [user_account(1)]
    assert report.mismatched_balances[0].stored == Decimal("11.00")
    assert report.mismatched_balances[0].from_entries == Decimal("10.00")
