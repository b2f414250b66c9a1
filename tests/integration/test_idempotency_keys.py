"""An idempotency key means one operation: the same parameters return the first result,
other parameters under the same key are refused and change nothing."""

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import IdempotencyKeyReused
from shopbot.domain.ledger import SystemAccount, TransactionKind, transfer, user_account
from shopbot.domain.ledger.ports import PostedTransaction
from shopbot.domain.orders.use_cases import purchase
from shopbot.persistence.models import LedgerTransactionRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user


def topup(amount: str, user_id: int = 1, kind: TransactionKind = TransactionKind.TOPUP):
    return transfer(
        "key-1",
        kind,
        source=SystemAccount.HELEKET,
        destination=user_account(user_id),
        amount=Decimal(amount),
        memo=f"top-up of {amount}",
    )


async def post(uows: UnitOfWorkFactory, transaction) -> PostedTransaction:
    async with uows() as uow:
        result = await uow.ledger.post(transaction)
        await uow.commit()
        return result


async def test_same_key_same_parameters_returns_the_first_posting(
    any_uow: UnitOfWorkFactory,
) -> None:
    await add_user(any_uow, 1)
    first = await post(any_uow, topup("10.50"))
    # "10.5" is the same amount; the memo is a description and may differ.
    again = await post(any_uow, topup("10.5"))

    assert first.created
    assert not again.created
    assert again.transaction_id == first.transaction_id
    async with any_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("10.50")


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: topup("7"), id="other-amount"),
        pytest.param(lambda: topup("10.50", user_id=2), id="other-account"),
        pytest.param(lambda: topup("10.50", kind=TransactionKind.ADJUSTMENT), id="other-kind"),
    ],
)
async def test_same_key_other_parameters_is_refused(any_uow: UnitOfWorkFactory, other) -> None:
    await add_user(any_uow, 1)
    await add_user(any_uow, 2)
    first = await post(any_uow, topup("10.50"))

    with pytest.raises(IdempotencyKeyReused) as refused:
        await post(any_uow, other())

    message = str(refused.value)
    assert "'key-1'" in message
    assert f"topup #{first.transaction_id}" in message
    assert "user:1 +10.50" in message
    async with any_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("10.50")
        assert await uow.ledger.balance(user_account(2)) == Decimal("0.00")
        assert await uow.session.scalar(select(func.count(LedgerTransactionRow.id))) == 1


async def test_racing_posts_with_one_key_and_different_amounts(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 1)

    async def attempt(amount: str) -> PostedTransaction | IdempotencyKeyReused:
        try:
            return await post(pg_uow, topup(amount))
        except IdempotencyKeyReused as refused:
            return refused

    for _ in range(5):
        outcomes = await asyncio.gather(attempt("10.00"), attempt("7.00"))
        won = [o for o in outcomes if isinstance(o, PostedTransaction)]
        refused = [o for o in outcomes if isinstance(o, IdempotencyKeyReused)]
        async with pg_uow() as uow:
            balance = await uow.ledger.balance(user_account(1))
        # The first round posts; later rounds repeat it: one of each amount is refused.
        assert len(refused) == 1
        assert len(won) == 1
        assert balance in {Decimal("10.00"), Decimal("7.00")}
    async with pg_uow() as uow:
        assert await uow.session.scalar(select(func.count(LedgerTransactionRow.id))) == 1
        assert (await uow.ledger.verify()).sound


async def test_a_purchase_key_is_bound_to_its_buyer_and_product(
    any_uow: UnitOfWorkFactory,
) -> None:
    await add_user(any_uow, 1, balance="100")
    await add_user(any_uow, 2, balance="100")
    await add_product(any_uow, "a", ProductKind.UNLIMITED, price="10")
    await add_product(any_uow, "b", ProductKind.UNLIMITED, price="10")
    async with any_uow() as uow:
        first = await purchase(uow, user_id=1, sku="a", request_key="tap-1")
        await uow.commit()
    async with any_uow() as uow:
        again = await purchase(uow, user_id=1, sku="a", request_key="tap-1")
    assert not again.created
    assert again.order.id == first.order.id

    for user_id, sku in ((1, "b"), (2, "a")):
        async with any_uow() as uow:
            with pytest.raises(IdempotencyKeyReused, match=f"order #{first.order.id} of a"):
                await purchase(uow, user_id=user_id, sku=sku, request_key="tap-1")
    async with any_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == Decimal("90.00")
        assert await uow.ledger.balance(user_account(2)) == Decimal("100.00")
