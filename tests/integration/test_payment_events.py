"""Applying Heleket status reports on real PostgreSQL: exactly-once crediting, the status
policy, quarantine of mismatches."""

import asyncio
from decimal import Decimal

import pytest

from shopbot.domain.ledger import user_account
from shopbot.domain.payments.events import Outcome, handle_payment_event
from shopbot.domain.payments.models import InvoiceState, PaymentEvent, TopupInvoice
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user

UUID = "8f1e6c1a-2b7d-4e0f-9a55-0c3d7b2e61a4"


async def open_invoice(uows: UnitOfWorkFactory, amount: str = "10.50") -> TopupInvoice:
    await add_user(uows, 7)
    async with uows() as uow:
        invoice = await uow.topups.create(
            user_id=7, order_id="topup-7-a", request_key="k", amount=Decimal(amount), currency="USD"
        )
        assert invoice is not None
        await uow.topups.attach_gateway(
            invoice.id, uuid=UUID, url="https://pay", expires_at=None, status="check"
        )
        await uow.commit()
        stored = await uow.topups.get_by_uuid(UUID)
    assert stored is not None
    return stored


def event(status: str, **changes: object) -> PaymentEvent:
    fields: dict[str, object] = {
        "uuid": UUID,
        "status": status,
        "order_id": "topup-7-a",
        "amount": Decimal("10.50"),
        "currency": "USD",
        "payment_amount": Decimal("10.50"),
        "payment_amount_usd": Decimal("10.50"),
        "payer_amount": Decimal("10.50"),
        "payer_currency": "USDT",
        "is_final": status not in ("check", "confirm_check"),
        "kind": "payment",
        "source": "webhook",
        "body": "{}",
    }
    fields.update(changes)
    return PaymentEvent(**fields)  # type: ignore[arg-type]


async def apply(uows: UnitOfWorkFactory, report: PaymentEvent):
    async with uows() as uow:
        result = await handle_payment_event(uow, report)
        await uow.commit()
        return result


async def balance(uows: UnitOfWorkFactory) -> Decimal:
    async with uows() as uow:
        return await uow.ledger.balance(user_account(7))


async def invoice_state(uows: UnitOfWorkFactory) -> TopupInvoice:
    async with uows() as uow:
        invoice = await uow.topups.get_by_uuid(UUID)
        assert invoice is not None
        return invoice


async def sound(uows: UnitOfWorkFactory) -> bool:
    async with uows() as uow:
        return (await uow.ledger.verify()).sound


async def test_paid_credits_once(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)

    first = await apply(pg_uow, event("paid"))
    again = await apply(pg_uow, event("paid"))

    assert first.outcome is Outcome.APPLIED
    assert first.credited == Decimal("10.50")
    assert again.outcome is Outcome.DUPLICATE
    assert await balance(pg_uow) == Decimal("10.50")
    invoice = await invoice_state(pg_uow)
    assert invoice.state is InvoiceState.CREDITED
    assert invoice.gateway_status == "paid"
    assert await sound(pg_uow)


async def test_waiting_statuses_only_update_the_invoice(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    for status in ("check", "process", "confirm_check", "wrong_amount_waiting"):
        result = await apply(pg_uow, event(status, payment_amount=Decimal("1")))
        assert result.outcome is Outcome.APPLIED
        assert result.credited is None
        assert (await invoice_state(pg_uow)).gateway_status == status
    assert (await invoice_state(pg_uow)).state is InvoiceState.PENDING
    assert await balance(pg_uow) == Decimal("0.00")


async def test_paid_over_credits_what_arrived_converted(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    # The payer had to pay 10.60 USDT for 10.50 USD and sent 12.72 USDT: 12.60 USD.
    report = event("paid_over", payer_amount=Decimal("10.60"), payment_amount=Decimal("12.72"))

    result = await apply(pg_uow, report)

    assert result.credited == Decimal("12.60")
    assert await balance(pg_uow) == Decimal("12.60")
    assert (await invoice_state(pg_uow)).credited_amount == Decimal("12.60")


async def test_wrong_amount_credits_what_arrived_and_says_so(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)

    result = await apply(pg_uow, event("wrong_amount", payment_amount=Decimal("4.333")))

    assert result.underpaid
    assert result.credited == Decimal("4.33")  # rounded down: never more than arrived
    assert await balance(pg_uow) == Decimal("4.33")
    note = (await invoice_state(pg_uow)).note
    assert note is not None
    assert "underpaid" in note


@pytest.mark.parametrize("status", ["cancel", "fail", "system_fail"])
async def test_closing_statuses_close_and_a_late_payment_still_counts(
    pg_uow: UnitOfWorkFactory, status: str
) -> None:
    await open_invoice(pg_uow)

    closed = await apply(pg_uow, event(status, payment_amount=None))
    assert closed.outcome is Outcome.APPLIED
    assert (await invoice_state(pg_uow)).state is InvoiceState.CLOSED

    late = await apply(pg_uow, event("paid"))
    assert late.credited == Decimal("10.50")
    assert await balance(pg_uow) == Decimal("10.50")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": Decimal("105.00")}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"order_id": "someone-else"}, "order_id"),
    ],
)
async def test_mismatch_is_quarantined_and_credits_nothing(
    pg_uow: UnitOfWorkFactory, change: dict[str, object], reason: str
) -> None:
    await open_invoice(pg_uow)

    result = await apply(pg_uow, event("paid", **change))
    after = await apply(pg_uow, event("paid_over"))

    assert result.outcome is Outcome.QUARANTINED
    assert reason in (result.note or "")
    assert after.outcome is Outcome.IGNORED
    assert await balance(pg_uow) == Decimal("0.00")
    assert (await invoice_state(pg_uow)).state is InvoiceState.QUARANTINED
    assert await sound(pg_uow)


async def test_unknown_invoice_is_quarantined(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    result = await apply(pg_uow, event("paid", uuid="not-ours", order_id="not-ours"))
    assert result.outcome is Outcome.QUARANTINED
    assert await balance(pg_uow) == Decimal("0.00")


async def test_fifty_concurrent_reports_credit_once(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    reports = [event("paid") for _ in range(25)] + [
        event("paid_over", payment_amount=Decimal("11")) for _ in range(25)
    ]

    results = await asyncio.gather(*(apply(pg_uow, r) for r in reports))

    credited = [r for r in results if r.credited is not None]
    assert len(credited) == 1
    assert await balance(pg_uow) == credited[0].credited
    assert await sound(pg_uow)
