"""Heleket top-up invoices and the events that move them."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from shopbot.domain.users.models import User


class InvoiceState(StrEnum):
    """The shop's view of a top-up invoice (Heleket's own status is kept beside it)."""

    PENDING = "pending"
    """Created; no final payment status yet."""
    CREDITED = "credited"
    """Money arrived and was credited to the user's balance (exactly once)."""
    CLOSED = "closed"
    """Expired, cancelled or failed without payment."""
    QUARANTINED = "quarantined"
    """An event did not match the stored invoice; an operator must look at it."""


class RefundState(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    """The user's balance is held; Heleket has not confirmed the refund yet."""
    PAID = "paid"
    FAILED = "failed"


class GatewayStatus(StrEnum):
    """Heleket payment statuses (SPEC §3)."""

    PAID = "paid"
    PAID_OVER = "paid_over"
    WRONG_AMOUNT = "wrong_amount"
    WRONG_AMOUNT_WAITING = "wrong_amount_waiting"
    CHECK = "check"
    CONFIRM_CHECK = "confirm_check"
    PROCESS = "process"
    FAIL = "fail"
    CANCEL = "cancel"
    SYSTEM_FAIL = "system_fail"
    REFUND_PROCESS = "refund_process"
    REFUND_FAIL = "refund_fail"
    REFUND_PAID = "refund_paid"
    LOCKED = "locked"


FINAL_STATUSES = frozenset(
    {
        GatewayStatus.PAID,
        GatewayStatus.PAID_OVER,
        GatewayStatus.WRONG_AMOUNT,
        GatewayStatus.FAIL,
        GatewayStatus.CANCEL,
        GatewayStatus.SYSTEM_FAIL,
        GatewayStatus.REFUND_FAIL,
        GatewayStatus.REFUND_PAID,
        GatewayStatus.LOCKED,
    }
)
"""Final in the SDKs' view (SPEC §3); a report's own `is_final` wins where present."""
CREDITING = frozenset({GatewayStatus.PAID, GatewayStatus.PAID_OVER, GatewayStatus.WRONG_AMOUNT})
WAITING = frozenset(
    {
        GatewayStatus.CHECK,
        GatewayStatus.CONFIRM_CHECK,
        GatewayStatus.PROCESS,
        GatewayStatus.WRONG_AMOUNT_WAITING,
        GatewayStatus.LOCKED,
        GatewayStatus.REFUND_PROCESS,
    }
)
CLOSING = frozenset({GatewayStatus.CANCEL, GatewayStatus.FAIL, GatewayStatus.SYSTEM_FAIL})

STATUS_RANK: dict[str, int] = {
    GatewayStatus.CHECK: 10,
    GatewayStatus.PROCESS: 20,
    GatewayStatus.CONFIRM_CHECK: 30,
    GatewayStatus.WRONG_AMOUNT_WAITING: 40,
    GatewayStatus.LOCKED: 50,
    GatewayStatus.CANCEL: 60,
    GatewayStatus.FAIL: 60,
    GatewayStatus.SYSTEM_FAIL: 60,
    GatewayStatus.PAID: 70,
    GatewayStatus.PAID_OVER: 70,
    GatewayStatus.WRONG_AMOUNT: 70,
    GatewayStatus.REFUND_PROCESS: 80,
    GatewayStatus.REFUND_FAIL: 90,
    GatewayStatus.REFUND_PAID: 90,
}
"""The one order of Heleket statuses (docs/payments.md, "Status order"): a stored
`gateway_status` is only ever replaced by a status of a higher rank.

From SPEC §3's flow: waiting (`check` → `process` → `confirm_check`, the tx seen) →
partly paid and waiting → AML hold → closed unpaid (`cancel`, `fail`, `system_fail`) →
paid (`paid`, `paid_over`, `wrong_amount`; above closed because a late payment on an
expired invoice is real money) → refund under way → refund settled. Statuses of one rank
do not replace each other (the first final word stands). Unknown statuses rank 0: they
are kept in `payment_events` but never replace a known status; no status ranks -1."""
NO_STATUS_RANK = -1


def status_rank(status: str | None) -> int:
    """The rank of a Heleket status in STATUS_RANK: -1 for none, 0 for an unknown one."""
    if status is None:
        return NO_STATUS_RANK
    return STATUS_RANK.get(status, 0)


@dataclass(frozen=True, slots=True)
class TopupInvoice:
    id: int
    user_id: int
    order_id: str
    request_key: str
    amount: Decimal
    currency: str
    state: InvoiceState
    uuid: str | None
    gateway_status: str | None
    url: str | None
    expires_at: datetime | None
    credited_amount: Decimal | None
    refund_state: RefundState
    refund_amount: Decimal | None
    note: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceOwner:
    """What telling an invoice's owner about a payment needs, read at once: the user, their
    balance now, the product they were topping up for, and the message showing the
    invoice's buttons (chat id, message id), if any."""

    user: User
    balance: Decimal
    then_buy_product_id: int | None
    shown_message: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A status report about an invoice: a verified webhook or a reconciliation poll."""

    uuid: str
    status: str
    order_id: str | None
    amount: Decimal | None
    currency: str | None
    payment_amount: Decimal | None
    payment_amount_usd: Decimal | None
    payer_amount: Decimal | None
    payer_currency: str | None
    is_final: bool
    kind: str
    """payment, wallet or payout."""
    source: str
    """webhook or reconcile."""
    body: str
    """The raw report, kept for audit."""


class StarRefundState(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    """The user's balance is held; Telegram has not confirmed the refund yet."""
    REFUNDED = "refunded"
    FAILED = "failed"
    """Telegram refused; the hold went back to the balance. Settled by hand from here."""


@dataclass(frozen=True, slots=True)
class StarPayment:
    id: int
    charge_id: str
    """telegram_payment_charge_id: unique, the idempotency key."""
    user_id: int
    stars: int
    amount: Decimal
    """What was credited, in the shop currency."""
    payload: str
    product_id: int | None
    """A product to buy automatically once credited."""
    refund_state: StarRefundState
    refunded_at: datetime | None
    created_at: datetime
