"""The emulator's single code path: the /v1 API, the hosted page and the control API all
act through `Emulator`, which applies transitions and signs and queues their webhooks."""

import asyncio
import contextlib
import secrets
import uuid as uuid_lib
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopbot.adapters.heleket.signature import signed_webhook_body
from shopbot.sandbox.heleket import payloads
from shopbot.sandbox.heleket.config import EmulatorConfig
from shopbot.sandbox.heleket.delivery import WebhookDelivery
from shopbot.sandbox.heleket.state import REFUNDABLE, BusinessError, Invoice, InvoiceStore, Webhook

REFUND_OUTCOMES = ("paid", "fail", "hold")


class UnknownInvoice(Exception):
    """No invoice with that uuid (control API / page)."""


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = InvoiceStore(config)
        self.webhooks = WebhookDelivery(config)
        self.paused = False  # while True, every webhook is lost (not sent, not retried)
        self._sweeper: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.config.expiry_check_interval is not None:
            self._sweeper = asyncio.create_task(self._sweep(self.config.expiry_check_interval))

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.webhooks.close()

    async def _sweep(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.expire_due()

    # --- helpers -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.config.clock()

    def key(self, merchant_id: str, kind: str) -> str:
        payment_key, payout_key = self.config.merchants[merchant_id]
        return payout_key if kind == "payout" else payment_key

    def emit(
        self, invoice: Invoice, hooks: list[Webhook], *, deliver: bool = True, source: str = "event"
    ) -> None:
        """Sign and queue `hooks` to the invoice's url_callback (or record them as lost)."""
        for hook in hooks:
            send = bool(invoice.url_callback) and deliver and not self.paused
            reason = None if send else ("no url_callback" if not invoice.url_callback else "lost")
            invoice.webhooks.append(
                {
                    "type": hook.payload["type"],
                    "status": hook.payload["status"],
                    "source": source,
                    "sent": send,
                    "reason": reason,
                }
            )
            if send and invoice.url_callback:
                body = signed_webhook_body(hook.payload, self.key(invoice.merchant_id, hook.kind))
                self.webhooks.enqueue(
                    invoice.uuid,
                    invoice.url_callback,
                    body,
                    uuid=invoice.uuid,
                    type=hook.payload["type"],
                    status=hook.payload["status"],
                    source=source,
                )

    def expire_due(self) -> None:
        now = self.now()
        for invoice in self.store.overdue(now):
            self.emit(invoice, self.store.expire(invoice, now))

    def invoice(self, uuid: str) -> Invoice:
        self.expire_due()
        invoice = self.store.get(uuid)
        if invoice is None:
            raise UnknownInvoice(uuid)
        return invoice

    # --- payer / control actions ---------------------------------------------------------

    def suggested(self, invoice: Invoice) -> dict[str, Decimal]:
        """Amounts the page buttons pay: exact remainder, half of it, 10% more than it."""
        rest = invoice.remaining
        return {
            "exact": rest,
            "under": (rest / 2).quantize(payloads.CRYPTO_PLACES),
            "over": (rest * Decimal("1.1")).quantize(payloads.CRYPTO_PLACES),
        }

    def pay(self, uuid: str, amount: Decimal | None = None, *, deliver: bool = True) -> Invoice:
        invoice = self.invoice(uuid)
        self.emit(invoice, self.store.pay(invoice, amount, self.now()), deliver=deliver)
        return invoice

    def expire(self, uuid: str, *, deliver: bool = True) -> Invoice:
        invoice = self.invoice(uuid)
        now = self.now()
        hooks = self.store.expire(invoice, now)
        if not hooks:
            raise BusinessError(f"The invoice is {invoice.status} and cannot expire")
        invoice.expired_at = min(invoice.expired_at, now)
        self.emit(invoice, hooks, deliver=deliver)
        return invoice

    def refund_outcome(self, uuid: str, outcome: str, *, deliver: bool = True) -> Invoice:
        """paid/fail/hold for the next refund; paid/fail also settles a held refund."""
        if outcome not in REFUND_OUTCOMES:
            raise BusinessError(f"outcome must be one of {', '.join(REFUND_OUTCOMES)}")
        invoice = self.invoice(uuid)
        invoice.refund_outcome = outcome
        if outcome != "hold":
            self.emit(
                invoice, self.store.finish_refund(invoice, outcome, self.now()), deliver=deliver
            )
        return invoice

    # --- merchant API actions ------------------------------------------------------------

    def create(self, merchant_id: str, fields: dict[str, Any]) -> Invoice:
        """Idempotent on order_id: an existing invoice is returned unchanged."""
        self.expire_due()
        existing = self.store.by_order.get((merchant_id, fields["order_id"]))
        if existing is not None:
            if fields.get("is_refresh"):
                self.store.refresh(existing, self.now())
            return existing
        return self.store.create(merchant_id, fields, self.now())

    def find(self, merchant_id: str, uuid: str | None, order_id: str | None) -> Invoice:
        self.expire_due()
        return self.store.find(merchant_id, uuid=uuid, order_id=order_id)

    def refund(
        self, invoice: Invoice, amount: Decimal | None, address: str, is_subtract: bool
    ) -> None:
        self.emit(invoice, self.store.refund(invoice, amount, address, is_subtract, self.now()))

    def resend(self, invoice: Invoice) -> None:
        if not invoice.is_final or invoice.status not in REFUNDABLE:
            raise BusinessError("The payment is not finalized")
        if not invoice.url_callback or invoice.last_payment_webhook is None:
            raise BusinessError("The payment has no url_callback")
        self.emit(invoice, [Webhook("payment", invoice.last_payment_webhook)], source="resend")

    def test_webhook(self, merchant_id: str, kind: str, fields: dict[str, Any]) -> None:
        """A signed synthetic webhook (payment key, SPEC §2.5); nothing is stored."""
        status = fields.get("status") or "paid"
        invoice = None
        if fields.get("uuid") or fields.get("order_id"):
            with contextlib.suppress(BusinessError):
                invoice = self.find(merchant_id, fields.get("uuid"), fields.get("order_id"))
        payload = synthetic(kind, status, fields, invoice, self.config)
        body = signed_webhook_body(payload, self.key(merchant_id, "payment"))
        group = f"test-{secrets.token_hex(8)}"
        self.webhooks.enqueue(
            group,
            fields["url_callback"],
            body,
            uuid=payload["uuid"],
            type=kind,
            status=status,
            source="test",
        )


def synthetic(
    kind: str,
    status: str,
    fields: dict[str, Any],
    invoice: Invoice | None,
    config: EmulatorConfig,
) -> dict[str, Any]:
    final = status not in (
        "check",
        "confirm_check",
        "process",
        "wrong_amount_waiting",
        "refund_process",
    )
    if invoice is not None:
        base = payloads.payment(config, invoice)
    else:
        currency, network = fields["currency"], fields["network"]
        base = {
            "type": kind,
            "uuid": fields.get("uuid") or str(uuid_lib.uuid4()),
            "order_id": fields.get("order_id") or secrets.token_hex(16),
            "amount": "15.00",
            "payment_amount": "15.00",
            "payment_amount_usd": "15.00",
            "merchant_amount": "14.70",
            "commission": "0.30",
            "is_final": final,
            "status": status,
            "from": None,
            "wallet_address_uuid": None,
            "network": network,
            "currency": currency,
            "payer_currency": currency,
            "payer_amount": "15.00",
            "additional_data": None,
            "txid": secrets.token_hex(32),
        }
    base.update(type=kind, status=status, is_final=final)
    if kind == "wallet":
        base["wallet_address_uuid"] = str(uuid_lib.uuid4())
    if kind == "payout":
        keep = (
            "type",
            "uuid",
            "order_id",
            "amount",
            "merchant_amount",
            "commission",
            "is_final",
            "status",
            "txid",
            "currency",
            "network",
            "payer_currency",
            "payer_amount",
        )
        base = {k: base[k] for k in keep}
    return base
