"""The durable "admins were told" marker of manual orders (orders.announced_at), on both
databases: one claim per order, whatever the number of callers."""

import asyncio

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.orders.use_cases import fulfil_order, purchase
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user


async def _buy(uows: UnitOfWorkFactory, sku: str, key: str) -> int:
    async with uows() as uow:
        result = await purchase(uow, user_id=1, sku=sku, request_key=key)
        await uow.commit()
        return result.order.id


async def _claim(uows: UnitOfWorkFactory, order_id: int) -> bool:
    async with uows() as uow:
        claimed = await uow.orders.claim_announcement(order_id)
        await uow.commit()
        return claimed


async def test_a_manual_order_is_claimed_once(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, "50")
    await add_product(any_uow, "setup", ProductKind.MANUAL, "5.00")
    await add_product(any_uow, "key", ProductKind.STOCK, "5.00", ["K1"])
    manual = await _buy(any_uow, "setup", "k1")
    stock = await _buy(any_uow, "key", "k2")

    assert await _claim(any_uow, manual) is True
    assert await _claim(any_uow, manual) is False
    # Only orders awaiting fulfilment are announced; unknown ids claim nothing.
    assert await _claim(any_uow, stock) is False
    assert await _claim(any_uow, 10**6) is False


async def test_concurrent_claims_have_one_winner(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, "50")
    await add_product(any_uow, "setup", ProductKind.MANUAL, "5.00")
    order_id = await _buy(any_uow, "setup", "k1")
    results = await asyncio.gather(*(_claim(any_uow, order_id) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_awaiting_fulfilment_lists_oldest_first(any_uow: UnitOfWorkFactory) -> None:
    await add_user(any_uow, 1, "50")
    await add_product(any_uow, "setup", ProductKind.MANUAL, "5.00")
    first, second, third = [await _buy(any_uow, "setup", f"k{n}") for n in range(3)]
    async with any_uow() as uow:
        await fulfil_order(uow, second, note="done")
        await uow.commit()
    async with any_uow() as uow:
        waiting = await uow.orders.awaiting_fulfilment(10)
        assert [o.id for o in waiting] == [first, third]
        assert all(o.status is OrderStatus.AWAITING_FULFILMENT for o in waiting)
        assert [o.id for o in await uow.orders.awaiting_fulfilment(1)] == [first]
