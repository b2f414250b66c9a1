"""In-memory invoices and their status machine (SPEC §3).

Everything here is synchronous: one event loop, no awaits, so each call is atomic.
Transitions return the webhooks they cause (`Webhook`), in order; the emulator signs
and delivers them.
"""

import base64
import hashlib
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Literal

from shopbot.sandbox.heleket import payloads
from shopbot.sandbox.heleket.config import EmulatorConfig
from shopbot.sandbox.heleket.payloads import CRYPTO_PLACES

UUID_NAMESPACE = uuid_lib.UUID("6f0b8f4e-3c1a-4e59-9d55-5a1c0de0e1e7")
PAYABLE = ("check", "wrong_amount_waiting")
REFUNDABLE = ("paid", "paid_over", "wrong_amount")
# Heleket's documented final statuses, written out here: the emulator plays Heleket from
# its documentation, independent of the shop's own reading of it.
FINAL = frozenset(
    {
        "paid",
        "paid_over",
        "wrong_amount",
        "fail",
        "cancel",
        "system_fail",
        "refund_fail",
        "refund_paid",
        "locked",
    }
)


class BusinessError(Exception):
    """An API-level refusal: `{"state":1,"message":...}`."""


@dataclass
class Webhook:
    kind: Literal["payment", "payout"]  # which key signs it
    payload: dict[str, Any]


@dataclass
class Payment:
    amount: Decimal
    txid: str
    sender: str
    at: datetime


@dataclass
class Refund:
    amount: Decimal
    address: str
    is_subtract: bool
    commission: Decimal
    txid: str | None = None


@dataclass
class Invoice:
    seq: int
    merchant_id: str
    uuid: str
    order_id: str
    amount: Decimal
    currency: str
    payer_currency: str
    payer_amount: Decimal
    network: str
    address: str
    url: str
    lifetime: int
    created_at: datetime
    updated_at: datetime
    expired_at: datetime
    url_callback: str | None = None
    url_return: str | None = None
    url_success: str | None = None
    is_payment_multiple: bool = True
    accuracy_payment_percent: Decimal = Decimal(0)
    discount_percent: int | None = None
    additional_data: str | None = None
    status: str = "check"
    is_final: bool = False
    payments: list[Payment] = field(default_factory=list)
    refund: Refund | None = None
    refund_outcome: str = "paid"  # what the next/pending refund ends as: paid, fail, hold
    last_payment_webhook: dict[str, Any] | None = None  # what resend replays
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # emitted (sent or lost)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return max(self.payer_amount - self.paid, Decimal(0))


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def fake_address(*parts: object) -> str:
    return "T" + base64.b32encode(_digest(*parts)).decode().rstrip("=")[:33]


def fake_txid(*parts: object) -> str:
    return _digest(*parts).hex()


class InvoiceStore:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.by_uuid: dict[str, Invoice] = {}
        self.by_order: dict[tuple[str, str], Invoice] = {}

    # --- lookups -------------------------------------------------------------------------

    def find(self, merchant_id: str, *, uuid: str | None, order_id: str | None) -> Invoice:
        """order_id wins when both are given (info, resend); raises if not found."""
        if order_id:
            invoice = self.by_order.get((merchant_id, order_id))
        else:
            invoice = self.by_uuid.get(uuid or "")
        if invoice is None or invoice.merchant_id != merchant_id:
            raise BusinessError("Payment not found")
        return invoice

    def get(self, uuid: str) -> Invoice | None:
        return self.by_uuid.get(uuid)

    def of_merchant(self, merchant_id: str) -> list[Invoice]:
        """Newest first."""
        found = [i for i in self.by_uuid.values() if i.merchant_id == merchant_id]
        return sorted(found, key=lambda i: i.seq, reverse=True)

    # --- creation ------------------------------------------------------------------------

    def quote(self, currency: str, to_currency: str | None) -> tuple[str, Decimal]:
        """(payer currency, payer units per invoice unit)."""
        rates = self.config.rates
        if to_currency is None:
            first = next(iter(rates.get(currency, {}).items()), None)
            return (first[0], Decimal(first[1])) if first else (currency, Decimal(1))
        if to_currency == currency:
            return currency, Decimal(1)
        if to_currency in rates.get(currency, {}):
            return to_currency, Decimal(rates[currency][to_currency])
        if currency in rates.get(to_currency, {}):
            return to_currency, 1 / Decimal(rates[to_currency][currency])
        raise BusinessError(f"Currency pair {currency}/{to_currency} is not supported")

    def create(self, merchant_id: str, fields: dict[str, Any], now: datetime) -> Invoice:
        """A new invoice; `fields` is the validated request (normalised types)."""
        payer_currency, rate = self.quote(fields["currency"], fields.get("to_currency"))
        payer_amount = (fields["amount"] * rate).quantize(CRYPTO_PLACES, ROUND_UP)
        uuid = str(uuid_lib.uuid5(UUID_NAMESPACE, f"{merchant_id}/{fields['order_id']}"))
        lifetime = fields["lifetime"]
        invoice = Invoice(
            seq=len(self.by_uuid) + 1,
            merchant_id=merchant_id,
            uuid=uuid,
            order_id=fields["order_id"],
            amount=fields["amount"],
            currency=fields["currency"],
            payer_currency=payer_currency,
            payer_amount=payer_amount,
            network=fields.get("network") or self.config.networks.get(payer_currency, "tron"),
            address=fake_address("address", uuid, now),
            url=f"{self.config.public_url.rstrip('/')}/pay/{uuid}",
            lifetime=lifetime,
            created_at=now,
            updated_at=now,
            expired_at=now + timedelta(seconds=lifetime),
            url_callback=fields.get("url_callback") or None,
            url_return=fields.get("url_return") or None,
            url_success=fields.get("url_success") or None,
            is_payment_multiple=fields["is_payment_multiple"],
            accuracy_payment_percent=fields.get("accuracy_payment_percent") or Decimal(0),
            discount_percent=fields.get("discount_percent"),
            additional_data=fields.get("additional_data") or None,
        )
        self.by_uuid[uuid] = invoice
        self.by_order[(merchant_id, invoice.order_id)] = invoice
        return invoice

    def refresh(self, invoice: Invoice, now: datetime) -> None:
        """`is_refresh`: re-open an expired unpaid invoice (new address and lifetime)."""
        if invoice.status == "cancel":
            invoice.status, invoice.is_final, invoice.updated_at = "check", False, now
            invoice.address = fake_address("address", invoice.uuid, now)
            invoice.expired_at = now + timedelta(seconds=invoice.lifetime)

    # --- transitions ---------------------------------------------------------------------

    def _set(self, invoice: Invoice, status: str, now: datetime) -> None:
        invoice.status, invoice.is_final, invoice.updated_at = status, status in FINAL, now

    def pay(self, invoice: Invoice, amount: Decimal | None, now: datetime) -> list[Webhook]:
        """A payment of `amount` payer-currency units (None: the exact remainder)."""
        if invoice.status not in PAYABLE:
            raise BusinessError(f"The invoice is {invoice.status} and cannot be paid")
        amount = invoice.remaining if amount is None else amount
        if amount <= 0:
            raise BusinessError("The amount must be positive")
        index = len(invoice.payments)
        invoice.payments.append(
            Payment(
                amount=amount.quantize(CRYPTO_PLACES, ROUND_DOWN) or CRYPTO_PLACES,
                txid=fake_txid("tx", invoice.uuid, index),
                sender=fake_address("from", invoice.uuid, index),
                at=now,
            )
        )
        self._set(invoice, "check", now)
        hooks = [self.payment_webhook(invoice)]
        tolerance = invoice.payer_amount * invoice.accuracy_payment_percent / 100
        if invoice.paid > invoice.payer_amount:
            final = "paid_over"
        elif invoice.paid >= invoice.payer_amount - tolerance:
            final = "paid"
        else:
            final = "wrong_amount_waiting" if invoice.is_payment_multiple else "wrong_amount"
        self._set(invoice, final, now)
        hooks.append(self.payment_webhook(invoice))
        return hooks

    def expire(self, invoice: Invoice, now: datetime) -> list[Webhook]:
        """Lifetime over: unpaid -> cancel, partly paid -> wrong_amount; others untouched."""
        if invoice.status == "check" and not invoice.payments:
            self._set(invoice, "cancel", now)
        elif invoice.status in PAYABLE:
            self._set(invoice, "wrong_amount", now)
        else:
            return []
        return [self.payment_webhook(invoice)]

    def overdue(self, now: datetime) -> list[Invoice]:
        return [i for i in self.by_uuid.values() if i.status in PAYABLE and now >= i.expired_at]

    def refund(
        self,
        invoice: Invoice,
        amount: Decimal | None,
        address: str,
        is_subtract: bool,
        now: datetime,
    ) -> list[Webhook]:
        if invoice.status not in REFUNDABLE:
            raise BusinessError("The payment cannot be refunded")
        amount = invoice.paid if amount is None else amount
        if amount <= 0 or amount > invoice.paid:
            raise BusinessError("The refund amount exceeds the payment amount")
        fee = (amount * self.config.commission_percent / 100).quantize(CRYPTO_PLACES)
        invoice.refund = Refund(amount, address, is_subtract, fee)
        self._set(invoice, "refund_process", now)
        hooks = [self.refund_webhook(invoice)]
        if invoice.refund_outcome != "hold":
            hooks += self.finish_refund(invoice, invoice.refund_outcome, now)
        return hooks

    def finish_refund(self, invoice: Invoice, outcome: str, now: datetime) -> list[Webhook]:
        if invoice.status != "refund_process" or invoice.refund is None:
            return []
        if outcome == "paid":
            invoice.refund.txid = fake_txid("refund", invoice.uuid)
        self._set(invoice, f"refund_{outcome}", now)
        return [self.refund_webhook(invoice)]

    # --- webhooks ------------------------------------------------------------------------

    def payment_webhook(self, invoice: Invoice) -> Webhook:
        payload = payloads.payment(self.config, invoice)
        if invoice.is_final:
            invoice.last_payment_webhook = payload
        return Webhook("payment", payload)

    def refund_webhook(self, invoice: Invoice) -> Webhook:
        """Refunds report as payment statuses (SPEC §2.6), signed with the payment key; the
        resend payload of the paid invoice is left as it was."""
        return Webhook("payment", payloads.payment(self.config, invoice))
