"""Heleket statuses only move forward (models.STATUS_RANK), on real PostgreSQL: the
race of a `paid` webhook applied before the create answer is saved, late waiting
reports, reconciliation answering an older status, refund statuses, and the same under
real concurrency."""

import asyncio
from dataclasses import replace
from decimal import Decimal

from shopbot.domain.ledger import user_account
from shopbot.domain.payments.events import Outcome, handle_payment_event
from shopbot.domain.payments.gateway import GatewayInvoice, InvoiceRequest
from shopbot.domain.payments.models import (
    STATUS_RANK,
    GatewayStatus,
    InvoiceState,
    PaymentEvent,
    status_rank,
)
from shopbot.domain.payments.reconcile import check_invoice
from shopbot.domain.payments.refunds import request_refund
from shopbot.domain.payments.topups import TopupPolicy, create_topup
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user
from tests.integration.test_payment_events import UUID, apply, event, invoice_state, open_invoice

POLICY = TopupPolicy(
    currency="USD", minimum=Decimal(1), maximum=Decimal(1000), callback_url="https://x/wh"
)


def answer(order_id: str, status: str, amount: Decimal = Decimal("10.50")) -> GatewayInvoice:
    return GatewayInvoice(
        uuid=UUID,
        order_id=order_id,
        amount=amount,
        currency="USD",
        status=status,
        is_final=status not in ("check", "process", "confirm_check"),
        url="https://pay",
        payment_amount=amount,
        payer_amount=amount,
        payer_currency="USD",
    )


class PaidDuringCreate:
    """A gateway whose `paid` webhook is applied (committed) while the create call is
    still under way; the create answer then says `check`, as Heleket's did when sent."""

    def __init__(self, uows: UnitOfWorkFactory, info_status: str = "check") -> None:
        self.uows = uows
        self.info_status = info_status
        self.refunds: list[str] = []

    async def create_invoice(self, request: InvoiceRequest) -> GatewayInvoice:
        paid = event("paid", order_id=request.order_id, amount=request.amount)
        await apply(self.uows, replace(paid, uuid=UUID))
        return answer(request.order_id, "check", request.amount)

    async def payment_info(
        self, *, uuid: str | None = None, order_id: str | None = None
    ) -> GatewayInvoice:
        return answer(order_id or "topup-7-a", self.info_status)

    async def refund(self, *, address: str, is_subtract: bool, **_: object) -> None:
        self.refunds.append(address)


def test_the_order_is_total_over_known_statuses_and_unknown_ranks_lowest() -> None:
    assert set(STATUS_RANK) == set(GatewayStatus)
    assert status_rank(None) < status_rank("mystery") < status_rank("check")
    assert status_rank("check") < status_rank("confirm_check") < status_rank("paid")
    assert status_rank("cancel") < status_rank("paid") < status_rank("refund_paid")


async def test_paid_webhook_before_the_create_answer_is_saved_stays_paid(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 7)
    gateway = PaidDuringCreate(pg_uow)

    invoice = await create_topup(
        pg_uow, gateway, POLICY, user_id=7, amount="10.50", request_key="race"
    )

    assert invoice.gateway_status == "paid"
    assert invoice.state is InvoiceState.CREDITED
    assert invoice.uuid == UUID
    assert invoice.url == "https://pay"
    async with pg_uow() as uow:
        assert await uow.ledger.balance(user_account(7)) == Decimal("10.50")


async def test_late_waiting_and_closing_reports_after_paid_change_nothing(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await open_invoice(pg_uow)
    await apply(pg_uow, event("paid"))

    for late in ("check", "process", "confirm_check", "cancel", "locked", "mystery"):
        result = await apply(pg_uow, event(late))
        assert result.credited is None
        stored = await invoice_state(pg_uow)
        assert stored.gateway_status == "paid", late
        assert stored.state is InvoiceState.CREDITED


async def test_a_waiting_report_never_goes_back_to_an_earlier_one(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await open_invoice(pg_uow)
    await apply(pg_uow, event("confirm_check"))
    await apply(pg_uow, event("process"))

    assert (await invoice_state(pg_uow)).gateway_status == "confirm_check"


async def test_reconciliation_answering_an_older_status_does_not_go_back(
    pg_uow: UnitOfWorkFactory,
) -> None:
    invoice = await open_invoice(pg_uow)
    await apply(pg_uow, event("paid"))
    gateway = PaidDuringCreate(pg_uow, info_status="confirm_check")

    result = await check_invoice(pg_uow, gateway, invoice)

    assert result.outcome is Outcome.APPLIED  # recorded; nothing moved
    assert (await invoice_state(pg_uow)).gateway_status == "paid"


async def test_a_late_paid_on_a_cancelled_invoice_moves_forward(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await open_invoice(pg_uow)
    await apply(pg_uow, event("cancel"))
    await apply(pg_uow, event("paid"))

    stored = await invoice_state(pg_uow)
    assert (stored.state, stored.gateway_status) == (InvoiceState.CREDITED, "paid")


async def test_refund_statuses_move_forward_only(pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    await apply(pg_uow, event("paid"))
    gateway = PaidDuringCreate(pg_uow)
    await request_refund(
        pg_uow,
        gateway,
        order_id="topup-7-a",
        address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
        actor="cli:ops",
    )

    await apply(pg_uow, event("refund_process"))
    assert (await invoice_state(pg_uow)).gateway_status == "refund_process"
    await apply(pg_uow, event("refund_paid"))
    await apply(pg_uow, event("refund_process"))  # delivered late, after refund_paid

    stored = await invoice_state(pg_uow)
    assert stored.gateway_status == "refund_paid"


async def test_concurrent_create_answer_and_webhooks_end_paid(pg_uow: UnitOfWorkFactory) -> None:
    """The create answer (`check`) and a burst of waiting and paid reports race on one
    row; whatever the interleaving, the stored status ends at the highest rank."""
    invoice = await open_invoice(pg_uow)
    reports = [event(s) for s in ("check", "confirm_check", "paid", "process") * 5]

    async def save_create_answer() -> None:
        async with pg_uow() as uow:
            await uow.topups.attach_gateway(
                invoice.id, uuid=UUID, url="https://pay", expires_at=None, status="check"
            )
            await uow.commit()

    async def deliver(report: PaymentEvent) -> None:
        async with pg_uow() as uow:
            await handle_payment_event(uow, report)
            await uow.commit()

    await asyncio.gather(*(save_create_answer() for _ in range(10)), *map(deliver, reports))

    stored = await invoice_state(pg_uow)
    assert (stored.state, stored.gateway_status) == (InvoiceState.CREDITED, "paid")
