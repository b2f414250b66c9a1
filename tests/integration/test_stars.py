"""Telegram Stars on real PostgreSQL: checkout validation, crediting once per charge id
(also under 50 concurrent deliveries), refunds with hold and release, and the purchase
after a top-up happening once."""

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import InsufficientFunds, InvalidAmount, OrderStateError
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.payments.after_topup import AfterTopupStatus, buy_after_topup
from shopbot.domain.payments.stars import (
    CheckoutRefusal,
    CheckoutRefused,
    StarCredit,
    StarRefundOutcome,
    StarRefundState,
    StarsAlreadyRefunded,
    StarsPayload,
    StarsPolicy,
    StarsRefundRefused,
    StarsRefundUncertain,
    check_checkout,
    credit_star_payment,
    invoice_payload,
    refund_star_payment,
)
from shopbot.persistence.models import LedgerTransactionRow, OrderRow, StarPaymentRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user

POLICY = StarsPolicy(
    currency="USD", minimum=Decimal("1.00"), maximum=Decimal("100.00"), stars_per_unit=Decimal(50)
)


def payload(user_id: int = 7, amount: str = "10.00", product_id: int | None = None) -> str:
    return invoice_payload(POLICY, user_id=user_id, amount=amount, product_id=product_id).encode()


async def credit(
    uows: UnitOfWorkFactory,
    charge: str,
    text: str,
    *,
    user_id: int = 7,
    stars: int | None = None,
) -> StarCredit:
    decoded = StarsPayload.decode(text)
    total = stars if stars is not None else (decoded.stars if decoded else 1)
    async with uows() as uow:
        result = await credit_star_payment(
            uow,
            POLICY,
            user_id=user_id,
            charge_id=charge,
            payload=text,
            currency="XTR",
            total_amount=total,
        )
        await uow.commit()
    return result


async def balance(uows: UnitOfWorkFactory, account: str) -> Decimal:
    async with uows() as uow:
        return await uow.ledger.balance(account)


async def count(uows: UnitOfWorkFactory, column: object) -> int:
    async with uows() as uow:
        return int(await uow.session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]


async def assert_sound(uows: UnitOfWorkFactory) -> None:
    async with uows() as uow:
        report = await uow.ledger.verify()
    assert report.sound, report


class FakeRefunder:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[int, str]] = []

    async def refund(self, *, user_id: int, charge_id: str) -> None:
        self.calls.append((user_id, charge_id))
        if self.error is not None:
            raise self.error


# --- the price and the payload ------------------------------------------------------


def test_price_rounds_up_and_credit_rounds_down() -> None:
    policy = StarsPolicy("USD", Decimal(1), Decimal(100), Decimal("33.3"))
    assert policy.stars_for(Decimal("1.00")) == 34  # 33.3 → 34: never below the rate
    assert policy.stars_for(Decimal("10.00")) == 333
    assert policy.value_of(34) == Decimal("1.02")  # 1.0210… rounded down
    assert POLICY.stars_for(Decimal("10.01")) == 501


def test_payload_round_trip_and_limits() -> None:
    text = payload(123456789012, "99.99", 42)
    assert len(text.encode()) <= 128
    decoded = StarsPayload.decode(text)
    assert decoded == StarsPayload(123456789012, Decimal("99.99"), 42, 5000)
    assert StarsPayload.decode(payload(1, "5")) == StarsPayload(1, Decimal("5.00"), None, 250)
    for bad in ("", "st1:1:2", "st1:a:1:0:1", "x" * 200, "st1:1:100:0:50:extra"):
        assert StarsPayload.decode(bad) is None
    with pytest.raises(InvalidAmount):
        invoice_payload(POLICY, user_id=1, amount="0.50", product_id=None)
    with pytest.raises(InvalidAmount):
        invoice_payload(POLICY, user_id=1, amount="1.001", product_id=None)
    with pytest.raises(InvalidAmount):  # 500 * 50 = 25 000 Stars: beyond one invoice
        invoice_payload(
            StarsPolicy("USD", Decimal(1), Decimal(1000), Decimal(50)),
            user_id=1,
            amount="500",
            product_id=None,
        )


# --- pre-checkout -------------------------------------------------------------------


async def refusal(uows: UnitOfWorkFactory, **overrides: object) -> CheckoutRefusal | None:
    values: dict[str, object] = {
        "user_id": 7,
        "payload": payload(),
        "currency": "XTR",
        "total_amount": 500,
    }
    values.update(overrides)
    try:
        async with uows() as uow:
            await check_checkout(uow, POLICY, **values)  # type: ignore[arg-type]
    except CheckoutRefused as refused:
        return refused.reason
    return None


async def test_checkout_revalidates_the_payload(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    await add_user(pg_uow, 8)
    product = await add_product(pg_uow, "key", stock=["K-1"])
    assert await refusal(pg_uow) is None
    assert await refusal(pg_uow, payload=payload(product_id=product)) is None
    assert await refusal(pg_uow, user_id=8) is CheckoutRefusal.WRONG_USER
    assert await refusal(pg_uow, payload="forged") is CheckoutRefusal.MALFORMED
    assert await refusal(pg_uow, total_amount=499) is CheckoutRefusal.MALFORMED
    assert await refusal(pg_uow, currency="USD") is CheckoutRefusal.MALFORMED
    huge = StarsPayload(7, Decimal("500.00"), None, 25_000).encode()
    assert await refusal(pg_uow, payload=huge, total_amount=25_000) is CheckoutRefusal.AMOUNT
    stale = StarsPayload(7, Decimal("10.00"), None, 400).encode()  # the rate changed since
    assert await refusal(pg_uow, payload=stale, total_amount=400) is CheckoutRefusal.PRICE
    missing = payload(product_id=product + 100)
    assert await refusal(pg_uow, payload=missing) is CheckoutRefusal.PRODUCT
    async with pg_uow() as uow:
        await uow.users.set_blocked(7, True)
        await uow.commit()
    assert await refusal(pg_uow) is CheckoutRefusal.BLOCKED


async def test_checkout_refuses_an_inactive_product(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    product = await add_product(pg_uow, "key", stock=["K-1"])
    async with pg_uow() as uow:
        await uow.session.execute(
            OrderRow.metadata.tables["products"].update().values(is_active=False)
        )
        await uow.commit()
    assert await refusal(pg_uow, payload=payload(product_id=product)) is CheckoutRefusal.PRODUCT


# --- crediting ------------------------------------------------------------------------


async def test_a_payment_is_credited_once_per_charge_id(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    first = await credit(pg_uow, "charge-1", payload(amount="12.34"))
    again = await credit(pg_uow, "charge-1", payload(amount="12.34"))
    assert first.created
    assert not again.created
    assert again.payment == first.payment
    assert first.payment.stars == 617
    assert first.payment.amount == Decimal("12.34")
    assert await balance(pg_uow, user_account(7)) == Decimal("12.34")
    assert await balance(pg_uow, SystemAccount.STARS) == Decimal("-12.34")
    async with pg_uow() as uow:
        keys = await uow.session.scalars(select(LedgerTransactionRow.idempotency_key))
        assert list(keys) == ["stars:charge-1"]
        assert [p.charge_id for p in await uow.stars.list_for_user(7, 10)] == ["charge-1"]
        assert await uow.stars.get(first.payment.id) == first.payment
    await assert_sound(pg_uow)


async def test_fifty_concurrent_deliveries_of_one_charge_credit_once(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 7)
    text = payload(amount="10.00")
    results = await asyncio.gather(*(credit(pg_uow, "charge-x", text) for _ in range(50)))
    assert sum(result.created for result in results) == 1
    assert {result.payment.id for result in results} == {results[0].payment.id}
    assert await balance(pg_uow, user_account(7)) == Decimal("10.00")
    assert await count(pg_uow, StarPaymentRow.id) == 1
    assert await count(pg_uow, LedgerTransactionRow.id) == 1
    await assert_sound(pg_uow)


async def test_different_charges_each_credit(pg_uow: UnitOfWorkFactory) -> None:
    # The account exists first: concurrent FIRST credits of one user can collide on
    # uq_accounts_user_id in the ledger's account upsert (reported; the update is then
    # redelivered and succeeds).
    await add_user(pg_uow, 7, balance="1.00")
    await asyncio.gather(*(credit(pg_uow, f"c-{n}", payload(amount="2.00")) for n in range(20)))
    assert await balance(pg_uow, user_account(7)) == Decimal("41.00")
    await assert_sound(pg_uow)


async def test_a_payment_not_matching_its_payload_credits_what_the_stars_are_worth(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 7)
    product = await add_product(pg_uow, "key", stock=["K-1"])
    odd = await credit(pg_uow, "odd", payload(amount="10.00", product_id=product), stars=333)
    assert odd.payment.amount == Decimal("6.66")  # 333 / 50, rounded down
    assert odd.payment.product_id is None  # no automatic purchase on a mismatch
    forged = await credit(pg_uow, "forged", "garbage", stars=51)
    assert forged.payment.amount == Decimal("1.02")
    assert await balance(pg_uow, user_account(7)) == Decimal("7.68")
    await assert_sound(pg_uow)


# --- refunds --------------------------------------------------------------------------


async def test_refund_holds_then_refunds(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    paid = await credit(pg_uow, "charge-r", payload(amount="10.00"))
    refunder = FakeRefunder()
    result = await refund_star_payment(
        pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1"
    )
    assert result.outcome is StarRefundOutcome.REFUNDED
    assert result.payment.refund_state is StarRefundState.REFUNDED
    assert result.payment.refunded_at is not None
    assert refunder.calls == [(7, "charge-r")]
    assert await balance(pg_uow, user_account(7)) == Decimal("0.00")
    assert await balance(pg_uow, SystemAccount.STARS) == Decimal("0.00")
    with pytest.raises(OrderStateError):  # once
        await refund_star_payment(pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1")
    assert len(refunder.calls) == 1
    await assert_sound(pg_uow)


async def test_refund_refused_when_the_balance_was_spent(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    await add_product(pg_uow, "key", price="8.00", stock=["K-1"])
    paid = await credit(pg_uow, "charge-s", payload(amount="10.00"))
    async with pg_uow() as uow:
        await purchase(uow, user_id=7, sku="key", request_key="buy")
        await uow.commit()
    refunder = FakeRefunder()
    with pytest.raises(InsufficientFunds):
        await refund_star_payment(pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1")
    assert refunder.calls == []
    async with pg_uow() as uow:
        stored = await uow.stars.get(paid.payment.id)
    assert stored is not None
    assert stored.refund_state is StarRefundState.NONE
    assert await balance(pg_uow, user_account(7)) == Decimal("2.00")
    await assert_sound(pg_uow)


async def test_a_telegram_refusal_releases_the_hold(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    paid = await credit(pg_uow, "charge-f", payload(amount="10.00"))
    refunder = FakeRefunder(StarsRefundRefused("CHARGE_NOT_FOUND"))
    result = await refund_star_payment(
        pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1"
    )
    assert result.outcome is StarRefundOutcome.REFUSED
    assert result.error == "CHARGE_NOT_FOUND"
    assert result.payment.refund_state is StarRefundState.FAILED
    assert result.payment.refunded_at is None
    assert await balance(pg_uow, user_account(7)) == Decimal("10.00")
    async with pg_uow() as uow:
        keys = set(await uow.session.scalars(select(LedgerTransactionRow.idempotency_key)))
    assert keys == {"stars:charge-f", "stars:charge-f:refund", "stars:charge-f:refund-release"}
    with pytest.raises(OrderStateError):  # settled by hand from here
        await refund_star_payment(pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1")
    await assert_sound(pg_uow)


async def test_an_unclear_answer_keeps_the_hold_and_a_retry_completes(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 7)
    paid = await credit(pg_uow, "charge-u", payload(amount="10.00"))
    unclear = await refund_star_payment(
        pg_uow,
        FakeRefunder(StarsRefundUncertain("timeout")),
        payment_id=paid.payment.id,
        actor="admin:1",
    )
    assert unclear.outcome is StarRefundOutcome.UNCERTAIN
    assert unclear.payment.refund_state is StarRefundState.REQUESTED
    assert await balance(pg_uow, user_account(7)) == Decimal("0.00")  # held
    # The first call did reach Telegram: the retry hears "already refunded".
    retry = await refund_star_payment(
        pg_uow,
        FakeRefunder(StarsAlreadyRefunded("CHARGE_ALREADY_REFUNDED")),
        payment_id=paid.payment.id,
        actor="admin:1",
    )
    assert retry.outcome is StarRefundOutcome.REFUNDED
    assert await balance(pg_uow, user_account(7)) == Decimal("0.00")
    assert await balance(pg_uow, SystemAccount.STARS) == Decimal("0.00")
    await assert_sound(pg_uow)


async def test_concurrent_refunds_hold_once(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    paid = await credit(pg_uow, "charge-c", payload(amount="10.00"))
    refunder = FakeRefunder()
    results = await asyncio.gather(
        *(
            refund_star_payment(pg_uow, refunder, payment_id=paid.payment.id, actor="admin:1")
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    done = [r for r in results if not isinstance(r, BaseException)]
    assert all(isinstance(r, OrderStateError) for r in results if isinstance(r, BaseException))
    assert done
    assert await balance(pg_uow, user_account(7)) == Decimal("0.00")
    assert await balance(pg_uow, SystemAccount.STARS) == Decimal("0.00")
    await assert_sound(pg_uow)


# --- the purchase after a top-up ------------------------------------------------------


async def test_purchase_after_topup_happens_once(pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7, balance="3.00")
    product = await add_product(pg_uow, "key", price="10.00", stock=["K-1", "K-2"])
    paid = await credit(pg_uow, "charge-b", payload(amount="7.00", product_id=product))
    assert paid.payment.product_id == product
    results = await asyncio.gather(
        *(
            buy_after_topup(pg_uow, user_id=7, product_id=product, payment_ref="charge-b")
            for _ in range(10)
        )
    )
    statuses = sorted(r.status for r in results)
    assert statuses.count(AfterTopupStatus.BOUGHT) == 1
    assert set(statuses) <= {AfterTopupStatus.BOUGHT, AfterTopupStatus.ALREADY}
    assert {r.order.id for r in results if r.order} == {results[0].order.id}  # type: ignore[union-attr]
    bought = next(r for r in results if r.status is AfterTopupStatus.BOUGHT)
    assert bought.order is not None
    assert bought.order.delivery == "K-1"
    assert bought.order.request_key == "after-topup:charge-b"
    assert await balance(pg_uow, user_account(7)) == Decimal("0.00")
    assert await count(pg_uow, OrderRow.id) == 1
    await assert_sound(pg_uow)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("sold_out", AfterTopupStatus.SOLD_OUT),
        ("inactive", AfterTopupStatus.UNAVAILABLE),
        ("spent", AfterTopupStatus.INSUFFICIENT),
    ],
)
async def test_purchase_after_topup_that_cannot_happen_keeps_the_money(
    pg_uow: UnitOfWorkFactory, setup: str, expected: AfterTopupStatus
) -> None:
    await add_user(pg_uow, 7)
    await add_user(pg_uow, 8, balance="50.00")
    product = await add_product(pg_uow, "key", price="10.00", stock=["K-1"])
    await add_product(pg_uow, "other", kind=ProductKind.UNLIMITED, price="5.00")
    await credit(pg_uow, "charge-n", payload(amount="10.00", product_id=product))
    async with pg_uow() as uow:
        if setup == "sold_out":
            await purchase(uow, user_id=8, sku="key", request_key="someone-else")
        elif setup == "inactive":
            products = OrderRow.metadata.tables["products"]
            await uow.session.execute(products.update().values(is_active=False))
        else:
            await purchase(uow, user_id=7, sku="other", request_key="spent")
        await uow.commit()
    before = await balance(pg_uow, user_account(7))
    result = await buy_after_topup(pg_uow, user_id=7, product_id=product, payment_ref="charge-n")
    assert result.status is expected
    assert not result.bought
    assert result.balance == before
    assert await balance(pg_uow, user_account(7)) == before
    await assert_sound(pg_uow)
