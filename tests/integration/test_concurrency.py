"""Races settled by PostgreSQL: many transactions at once, each on its own connection."""

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import InsufficientFunds, OutOfStock
from shopbot.domain.ledger import SystemAccount, TransactionKind, transfer, user_account
from shopbot.domain.orders.use_cases import purchase
from shopbot.persistence.models import LedgerEntryRow, LedgerTransactionRow, StockItemRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user


async def _attempt_purchase(uow_factory: UnitOfWorkFactory, user_id: int, sku: str, key: str):
    try:
        async with uow_factory() as uow:
            result = await purchase(uow, user_id=user_id, sku=sku, request_key=key)
            await uow.commit()
            return result.order
    except (InsufficientFunds, OutOfStock) as exc:
        return exc


async def test_fifty_purchases_against_a_balance_for_ten(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 1, balance="10.00")
    await add_product(pg_uow, "unlimited", ProductKind.UNLIMITED, price="1.00")

    outcomes = await asyncio.gather(
        *(_attempt_purchase(pg_uow, 1, "unlimited", f"tap-{n}") for n in range(50))
    )

    succeeded = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
    assert len(succeeded) == 10
    assert len(refused) == 40
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("0.00")
        assert await uow.ledger.balance(SystemAccount.REVENUE) == Decimal("10.00")
        assert len(await uow.orders.list_for_user(1, 100)) == 10
        assert (await uow.ledger.verify()).sound


async def test_twenty_buyers_race_for_five_items(pg_uow: UnitOfWorkFactory) -> None:
    items = [f"KEY-{n}" for n in range(5)]
    product_id = await add_product(pg_uow, "scarce", price="3.00", stock=items)
    for user_id in range(1, 21):
        await add_user(pg_uow, user_id, balance="3.00")

    outcomes = await asyncio.gather(
        *(_attempt_purchase(pg_uow, u, "scarce", f"buy-{u}") for u in range(1, 21))
    )

    orders = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(orders) == 5
    assert sum(isinstance(o, OutOfStock) for o in outcomes) == 15
    assert sorted(o.delivery for o in orders) == items  # each item exactly once
    async with pg_uow() as uow:
        assert await uow.stock.available(product_id) == 0
        delivered = await uow.session.scalar(
            select(func.count(func.distinct(StockItemRow.order_id))).where(
                StockItemRow.order_id.is_not(None)
            )
        )
        assert delivered == 5
        buyers = {o.user_id for o in orders}
        for user_id in range(1, 21):
            expected = Decimal("0.00") if user_id in buyers else Decimal("3.00")
            assert await uow.ledger.balance(user_account(user_id)) == expected
        assert (await uow.ledger.verify()).sound


async def test_hundred_postings_with_one_key_apply_once(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 1)

    async def post():
        async with pg_uow() as uow:
            result = await uow.ledger.post(
                transfer(
                    "heleket:uuid-1:paid",
                    TransactionKind.TOPUP,
                    source=SystemAccount.HELEKET,
                    destination=user_account(1),
                    amount=Decimal("7.50"),
                )
            )
            await uow.commit()
            return result

    results = await asyncio.gather(*(post() for _ in range(100)))

    assert sum(r.created for r in results) == 1
    assert len({r.transaction_id for r in results}) == 1
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("7.50")
        assert await uow.session.scalar(select(func.count(LedgerTransactionRow.id))) == 1
        assert await uow.session.scalar(select(func.count(LedgerEntryRow.id))) == 2
        assert (await uow.ledger.verify()).sound


async def test_same_purchase_key_from_many_taps_buys_once(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 1, balance="100")
    await add_product(pg_uow, "key", price="10", stock=[f"K{n}" for n in range(10)])

    outcomes = await asyncio.gather(
        *(_attempt_purchase(pg_uow, 1, "key", "tap") for _ in range(20))
    )

    assert len({o.id for o in outcomes}) == 1
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("90.00")
        assert (await uow.ledger.verify()).sound


async def test_first_movements_of_a_fresh_shop_race_to_create_accounts(
    pg_uow: UnitOfWorkFactory,
) -> None:
    """System accounts are created on first use; racing creators must not fail."""
    for user_id in range(1, 21):
        await add_user(pg_uow, user_id)

    async def top_up(user_id: int):
        async with pg_uow() as uow:
            result = await uow.ledger.post(
                transfer(
                    f"stars:charge-{user_id}",
                    TransactionKind.TOPUP,
                    source=SystemAccount.STARS,
                    destination=user_account(user_id),
                    amount=Decimal("2.00"),
                )
            )
            await uow.commit()
            return result

    results = await asyncio.gather(*(top_up(u) for u in range(1, 21)))

    assert all(r.created for r in results)
    async with pg_uow() as uow:
        assert await uow.ledger.balance(SystemAccount.STARS) == Decimal("-40.00")
        assert (await uow.ledger.verify()).sound


async def test_first_credits_of_a_new_user_race_to_create_the_account(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 1)

    async def top_up(n: int):
        async with pg_uow() as uow:
            result = await uow.ledger.post(
                transfer(
                    f"stars:first-{n}",
                    TransactionKind.TOPUP,
                    source=SystemAccount.STARS,
                    destination=user_account(1),
                    amount=Decimal("1.00"),
                )
            )
            await uow.commit()
            return result

    results = await asyncio.gather(*(top_up(n) for n in range(20)))

    assert all(r.created for r in results)
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("20.00")
        assert (await uow.ledger.verify()).sound
