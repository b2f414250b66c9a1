from datetime import datetime
from decimal import Decimal
from typing import Protocol

from shopbot.domain.payments.models import (
    InvoiceOwner,
    InvoiceState,
    PaymentEvent,
    RefundState,
    StarPayment,
    StarRefundState,
    TopupInvoice,
)


class TopupRepository(Protocol):
    async def create(
        self,
        *,
        user_id: int,
        order_id: str,
        request_key: str,
        amount: Decimal,
        currency: str,
        then_buy_product_id: int | None = None,
    ) -> TopupInvoice | None:
        """Insert a pending invoice; None when `request_key` was used before."""
        ...

    async def get(self, invoice_id: int) -> TopupInvoice | None: ...

    async def then_buy_product_id(self, invoice_id: int) -> int | None:
        """The product to buy once this invoice is credited, if the customer chose one."""
        ...

    async def set_shown_message(self, invoice_id: int, chat_id: int, message_id: int) -> None:
        """Remember the Telegram message (chat id, message id) showing the invoice's
        Pay/Check buttons; a later showing replaces an earlier one."""
        ...

    async def take_shown_message(self, invoice_id: int) -> tuple[int, int] | None:
        """(chat id, message id) of the message showing the invoice's buttons, forgotten
        in the same statement so only one caller gets it; None when there is none."""
        ...

    async def forget_shown_message(self, invoice_id: int, shown: tuple[int, int]) -> bool:
        """Forget the message `shown` (chat id, message id) if the invoice still names it:
        True for the one caller that does so."""
        ...

    async def owner(self, invoice_id: int, account: str) -> InvoiceOwner | None:
        """The invoice's owner, the balance of their ledger `account`, the product they
        were topping up for and the message showing the invoice, in one read; None
        when there is no such invoice."""
        ...

    async def get_by_request_key(self, request_key: str) -> TopupInvoice | None: ...

    async def get_by_uuid(self, uuid: str) -> TopupInvoice | None: ...

    async def get_by_order_id(self, order_id: str) -> TopupInvoice | None: ...

    async def attach_gateway(
        self,
        invoice_id: int,
        *,
        uuid: str,
        url: str | None,
        expires_at: datetime | None,
        status: str,
    ) -> None: ...

    async def count_pending(self) -> int:
        """How many invoices are pending (no final status yet)."""
        ...

    async def paid_with(self, uuid: str) -> tuple[str | None, str | None]:
        """(payer_currency, network) the invoice was paid in, from its crediting report."""
        ...

    async def set_gateway_status(self, invoice_id: int, status: str) -> TopupInvoice | None:
        """Move the stored Heleket status forward (models.STATUS_RANK) in one conditional
        UPDATE; None when the stored status ranks the same or higher (nothing changes)."""
        ...

    async def transition(
        self,
        invoice_id: int,
        *,
        allowed: frozenset[InvoiceState],
        to: InvoiceState,
        credited_amount: Decimal | None = None,
        note: str | None = None,
        gateway_status: str | None = None,
    ) -> TopupInvoice | None:
        """Atomically move the invoice to `to` if its state is in `allowed`, else None;
        `gateway_status` is stored only if it ranks above the stored one."""
        ...

    async def set_refund(
        self,
        invoice_id: int,
        *,
        allowed: frozenset[RefundState],
        to: RefundState,
        amount: Decimal | None = None,
    ) -> TopupInvoice | None:
        """Atomically change the refund state if it is in `allowed`, else None."""
        ...

    async def needing_reconciliation(
        self, *, created_before: datetime, limit: int
    ) -> list[TopupInvoice]:
        """Pending invoices and unconfirmed refunds older than the cut-off."""
        ...

    async def record_event(self, event: PaymentEvent) -> int | None:
        """Store the event under its UNIQUE (uuid, status); None if it was seen before."""
        ...

    async def set_event_outcome(self, event_id: int, outcome: str, note: str | None) -> None: ...


class StarPaymentRepository(Protocol):
    async def record(
        self,
        *,
        charge_id: str,
        user_id: int,
        stars: int,
        amount: Decimal,
        payload: str,
        product_id: int | None,
    ) -> StarPayment | None:
        """Insert the payment; None when this charge id was recorded before."""
        ...

    async def get(self, payment_id: int) -> StarPayment | None: ...

    async def get_by_charge_id(self, charge_id: str) -> StarPayment | None: ...

    async def list_for_user(self, user_id: int, limit: int) -> list[StarPayment]:
        """The user's payments, newest first."""
        ...

    async def set_refund(
        self, payment_id: int, *, allowed: frozenset[StarRefundState], to: StarRefundState
    ) -> StarPayment | None:
        """Atomically change the refund state if it is in `allowed` (stamping
        `refunded_at` when it becomes refunded), else None."""
        ...
