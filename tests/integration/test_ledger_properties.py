"""Property test: any sequence of credits, purchases, refunds and adjustments — including
repeated idempotency keys and operations that must fail — keeps every ledger invariant,
and every user balance equals what a simple model of the rules predicts."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InsufficientFunds,
    OrderStateError,
    OutOfStock,
)
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.ledger.use_cases import adjust_balance, credit_topup
from shopbot.domain.orders.use_cases import purchase, refund_order
from shopbot.persistence.engine import create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user, truncate_all

USERS = (1, 2, 3)
PRICES = {"u": Decimal("3.00"), "s": Decimal("5.00"), "m": Decimal("7.50")}
STOCK = 3

amounts = st.integers(min_value=1, max_value=2000).map(lambda cents: Decimal(cents) / 100)
operations = st.one_of(
    st.tuples(st.just("credit"), st.sampled_from(USERS), amounts, st.integers(0, 5)),
    st.tuples(
        st.just("purchase"),
        st.sampled_from(USERS),
        st.sampled_from(sorted(PRICES)),
        st.integers(0, 8),
    ),
    st.tuples(st.just("refund"), st.integers(0, 10)),
    st.tuples(st.just("adjust"), st.sampled_from(USERS), amounts, st.booleans()),
)


@dataclass
class Model:
    balances: dict[int, Decimal] = field(default_factory=lambda: dict.fromkeys(USERS, Decimal(0)))
    credit_keys: dict[str, Decimal] = field(default_factory=dict)  # key -> amount
    purchase_keys: dict[str, str] = field(default_factory=dict)  # key -> sku
    stock_left: int = STOCK
    orders: list[tuple[int, int, Decimal]] = field(default_factory=list)  # (id, user, price)
    refunded: set[int] = field(default_factory=set)


async def _apply(uow_factory: UnitOfWorkFactory, model: Model, op: tuple) -> None:
    kind = op[0]
    async with uow_factory() as uow:
        try:
            if kind == "credit":
                _, user, amount, key_no = op
                key = f"heleket:{user}:{key_no}"
                await credit_topup(
                    uow,
                    user_id=user,
                    amount=amount,
                    provider=SystemAccount.HELEKET,
                    idempotency_key=key,
                    memo="prop",
                )
                await uow.commit()
                # A key means one operation: a repeat with another amount is refused.
                assert model.credit_keys.get(key, amount) == amount
                if key not in model.credit_keys:
                    model.credit_keys[key] = amount
                    model.balances[user] += amount
            elif kind == "purchase":
                _, user, sku, key_no = op
                key = f"tap:{user}:{key_no}"
                result = await purchase(uow, user_id=user, sku=sku, request_key=key)
                await uow.commit()
                assert result.created == (key not in model.purchase_keys)
                assert model.purchase_keys.get(key, sku) == sku
                if result.created:
                    model.purchase_keys[key] = sku
                    model.balances[user] -= PRICES[sku]
                    model.stock_left -= sku == "s"
                    model.orders.append((result.order.id, user, PRICES[sku]))
            elif kind == "refund":
                if not model.orders:
                    return
                order_id, user, price = model.orders[op[1] % len(model.orders)]
                await refund_order(uow, order_id, reason="prop", actor="test")
                await uow.commit()
                assert order_id not in model.refunded
                model.refunded.add(order_id)
                model.balances[user] += price
            else:
                _, user, amount, debit = op
                await adjust_balance(
                    uow,
                    user_id=user,
                    amount=amount,
                    debit=debit,
                    reason="prop",
                    actor="test",
                    idempotency_key=f"adjust:{uuid.uuid4()}",
                )
                await uow.commit()
                model.balances[user] += -amount if debit else amount
        except InsufficientFunds:
            assert model.balances[op[1]] < (PRICES[op[2]] if kind == "purchase" else op[2])
        except OutOfStock:
            assert model.stock_left == 0
        except OrderStateError:
            assert kind == "refund"
        except IdempotencyKeyReused:
            key = f"heleket:{op[1]}:{op[3]}" if kind == "credit" else f"tap:{op[1]}:{op[3]}"
            used = model.credit_keys if kind == "credit" else model.purchase_keys
            assert key in used
            assert used[key] != op[2]
        except DomainError as exc:  # pragma: no cover - any other refusal is a bug here
            raise AssertionError(f"unexpected refusal of {op}: {exc}") from exc


# 60 examples of up to 25 operations each take ~15 s: the inner loop (`make test-fast`) leaves
# this one to `make test`.
@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=25))
async def test_random_operations_keep_the_ledger_sound(
    pg_engine: AsyncEngine, ops: list[tuple]
) -> None:
    await truncate_all(pg_engine)
    uow_factory = UnitOfWorkFactory(create_session_factory(pg_engine))
    for user in USERS:
        await add_user(uow_factory, user)
    await add_product(uow_factory, "u", ProductKind.UNLIMITED, price="3.00")
    await add_product(uow_factory, "s", price="5.00", stock=[f"S{n}" for n in range(STOCK)])
    await add_product(uow_factory, "m", ProductKind.MANUAL, price="7.50")
    model = Model()

    for op in ops:
        await _apply(uow_factory, model, op)

    async with uow_factory() as uow:
        report = await uow.ledger.verify()
        assert report.sound, report
        for user in USERS:
            assert await uow.ledger.balance(user_account(user)) == model.balances[user]
            assert model.balances[user] >= 0
