"""End to end over real HTTP: top-up → the emulator's payment page → signed webhooks →
the real webhook service → the ledger, on real PostgreSQL."""

from decimal import Decimal

import pytest

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.payments.models import InvoiceState, RefundState
from shopbot.domain.payments.refunds import request_refund
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user
from tests.e2e.heleket_stack import heleket_stack


async def test_topup_paid_on_the_page_credits_once_and_buys(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, 7)
    await add_product(pg_uow, "key", price="9.99", stock=["STEAM-KEY-1"])
    async with heleket_stack(pg_url) as stack:
        invoice = await stack.topup(7, "10.50")
        assert invoice.url
        assert invoice.url.startswith(str(stack.emulator.base_url))
        # A person presses "Pay exactly" on the hosted page (a form POST).
        page = await stack.emulator.get(f"/pay/{invoice.uuid}")
        assert "10.50" in page.text
        pressed = await stack.emulator.post(
            f"/pay/{invoice.uuid}",
            content="action=exact",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert pressed.status_code in (200, 303)
        await stack.settle()

        deliveries = await stack.deliveries(invoice.uuid)
        assert [d["status"] for d in deliveries if d["ok"]] == ["check", "paid"]
        assert await stack.balance(7) == Decimal("10.50")
        credited = await stack.invoice(invoice.order_id)
        assert credited.state is InvoiceState.CREDITED
        assert credited.gateway_status == "paid"

        # The same webhook again (Heleket's resend) changes nothing.
        await stack.gateway.resend_webhook(uuid=invoice.uuid)
        await stack.settle()
        assert await stack.balance(7) == Decimal("10.50")

        async with stack.uows() as uow:
            bought = await purchase(uow, user_id=7, sku="key", request_key="buy")
            await uow.commit()
        assert bought.order.delivery == "STEAM-KEY-1"
        assert await stack.balance(7) == Decimal("0.51")
        assert await stack.sound()


async def test_the_same_topup_twice_makes_one_invoice(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        first = await stack.topup(7, "5", key="tap-1")
        again = await stack.topup(7, "5", key="tap-1")
        listed = (await stack.emulator.get("/sandbox/invoices")).json()
    assert first.uuid == again.uuid
    assert len(listed) == 1


async def test_underpay_overpay_and_expiry(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        under = await stack.topup(7, "10.00", key="under")
        over = await stack.topup(7, "10.00", key="over")
        expiring = await stack.topup(7, "10.00", key="expire")
        await stack.control(f"/invoices/{under.uuid}/pay", {"amount": "4.00"})
        await stack.control(f"/invoices/{over.uuid}/pay", {"amount": "12.50"})
        await stack.control(f"/invoices/{expiring.uuid}/expire")
        await stack.settle()

        underpaid = await stack.invoice(under.order_id)
        overpaid = await stack.invoice(over.order_id)
        expired = await stack.invoice(expiring.order_id)
    assert underpaid.gateway_status == "wrong_amount"
    assert underpaid.credited_amount == Decimal("4.00")
    assert "underpaid" in (underpaid.note or "")
    assert overpaid.gateway_status == "paid_over"
    assert overpaid.credited_amount == Decimal("12.50")
    assert expired.state is InvoiceState.CLOSED
    assert expired.gateway_status == "cancel"
    assert await stack.balance(7) == Decimal("16.50")
    assert await stack.sound()


async def test_a_lost_webhook_is_found_by_reconciliation(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    from datetime import UTC, datetime, timedelta

    from shopbot.domain.payments.reconcile import reconcile

    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        invoice = await stack.topup(7, "20.00")
        await stack.control(f"/invoices/{invoice.uuid}/pay", {"deliver": False})
        await stack.settle()
        assert await stack.deliveries(invoice.uuid) == []
        assert await stack.balance(7) == Decimal("0.00")

        report = await reconcile(
            stack.uows, stack.gateway, now=datetime.now(UTC), older_than=timedelta(0)
        )
        again = await reconcile(
            stack.uows, stack.gateway, now=datetime.now(UTC), older_than=timedelta(0)
        )
    assert report.checked == 1
    assert report.outcomes == {"applied": 1}
    assert again.checked == 0  # nothing open any more
    assert await stack.balance(7) == Decimal("20.00")
    assert await stack.sound()


async def test_refund_holds_then_settles(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await add_user(pg_uow, 7)
    async with heleket_stack(pg_url) as stack:
        paid = await stack.topup(7, "10.00", key="a")
        failing = await stack.topup(7, "6.00", key="b")
        for invoice in (paid, failing):
            await stack.control(f"/invoices/{invoice.uuid}/pay")
        await stack.control(f"/invoices/{failing.uuid}/refund-outcome", {"outcome": "fail"})
        await stack.settle()
        assert await stack.balance(7) == Decimal("16.00")

        await request_refund(
            stack.uows,
            stack.gateway,
            order_id=paid.order_id,
            address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
            actor="cli:ops",
        )
        await request_refund(
            stack.uows,
            stack.gateway,
            order_id=failing.order_id,
            address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
            amount="5",
            actor="cli:ops",
        )
        await stack.settle()

        refunded = await stack.invoice(paid.order_id)
        failed = await stack.invoice(failing.order_id)
        assert refunded.refund_state is RefundState.PAID
        assert failed.refund_state is RefundState.FAILED
        # 10 left the shop; the failed 5 came back to the balance.
        assert await stack.balance(7) == Decimal("6.00")
        assert await stack.sound()


async def test_refund_without_the_balance_is_refused(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    from shopbot.domain.errors import InsufficientFunds

    await add_user(pg_uow, 7)
    await add_product(pg_uow, "guide", ProductKind.UNLIMITED, price="8.00")
    async with heleket_stack(pg_url) as stack:
        invoice = await stack.topup(7, "10.00")
        await stack.control(f"/invoices/{invoice.uuid}/pay")
        await stack.settle()
        async with stack.uows() as uow:
            await purchase(uow, user_id=7, sku="guide", request_key="spend")
            await uow.commit()
        with pytest.raises(InsufficientFunds):
            await request_refund(
                stack.uows,
                stack.gateway,
                order_id=invoice.order_id,
                address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                actor="cli:ops",
            )
        state = await stack.invoice(invoice.order_id)
        info = await stack.gateway.payment_info(uuid=invoice.uuid)
    assert state.refund_state is RefundState.NONE
    assert info.status == "paid"  # nothing was sent to Heleket
    assert await stack.balance(7) == Decimal("2.00")
