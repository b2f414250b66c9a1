"""Wire objects: the invoice `result` (SPEC §2.1) and webhook payloads (SPEC §4.2).

Field order is the order Heleket sends; amounts are decimal strings.
"""

from datetime import datetime, timedelta, timezone
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING, Any

from shopbot.sandbox.heleket.config import EmulatorConfig

if TYPE_CHECKING:
    from shopbot.sandbox.heleket.state import Invoice

CRYPTO_PLACES = Decimal("0.00000001")
FIAT_PLACES = Decimal("0.01")
MSK = timezone(timedelta(hours=3))


def money(value: Decimal | None) -> str | None:
    """Heleket-style decimal string: at least 2 places, no exponent, no trailing zeros past 2."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def moscow(moment: datetime) -> str:
    """ISO-8601 with the +03:00 offset Heleket uses."""
    return moment.astimezone(MSK).isoformat(timespec="seconds")


def usd(config: EmulatorConfig, amount: Decimal, currency: str) -> Decimal | None:
    if currency == "USD":
        return amount.quantize(FIAT_PLACES)
    rate = config.rates.get("USD", {}).get(currency)
    return (amount / Decimal(rate)).quantize(FIAT_PLACES) if rate else None


def totals(config: EmulatorConfig, invoice: "Invoice") -> tuple[Decimal, Decimal]:
    """(commission, merchant_amount) of what was paid so far, in the payer currency."""
    commission = (invoice.paid * config.commission_percent / 100).quantize(CRYPTO_PLACES, ROUND_UP)
    return commission, invoice.paid - commission


def payment(config: EmulatorConfig, invoice: "Invoice") -> dict[str, Any]:
    """A `type: payment` webhook for the invoice's current state."""
    last = invoice.payments[-1] if invoice.payments else None
    commission, merchant_amount = totals(config, invoice)
    return {
        "type": "payment",
        "uuid": invoice.uuid,
        "order_id": invoice.order_id,
        "amount": money(invoice.amount),
        "payment_amount": money(invoice.paid),
        "payment_amount_usd": money(usd(config, invoice.paid, invoice.payer_currency)),
        "merchant_amount": money(merchant_amount),
        "commission": money(commission),
        "is_final": invoice.is_final,
        "status": invoice.status,
        "from": last.sender if last else None,
        "wallet_address_uuid": None,
        "network": invoice.network,
        "currency": invoice.currency,
        "payer_currency": invoice.payer_currency,
        "payer_amount": money(invoice.payer_amount),
        "additional_data": invoice.additional_data,
        "txid": last.txid if last else None,
    }


def result(config: EmulatorConfig, invoice: "Invoice") -> dict[str, Any]:
    """The invoice object of /v1/payment, /v1/payment/info and /v1/payment/list."""
    last = invoice.payments[-1] if invoice.payments else None
    commission, merchant_amount = totals(config, invoice)
    return {
        "uuid": invoice.uuid,
        "order_id": invoice.order_id,
        "amount": money(invoice.amount),
        "payment_amount": money(invoice.paid),
        "payment_amount_usd": money(usd(config, invoice.paid, invoice.payer_currency)),
        "payer_amount": money(invoice.payer_amount),
        "discount_percent": invoice.discount_percent,
        "discount": "0.00",
        "payer_currency": invoice.payer_currency,
        "currency": invoice.currency,
        "merchant_amount": money(merchant_amount) if last else None,
        "commission": money(commission) if last else None,
        "network": invoice.network,
        "address": invoice.address,
        "from": last.sender if last else None,
        "txid": last.txid if last else None,
        "payment_status": invoice.status,
        "url": invoice.url,
        "expired_at": int(invoice.expired_at.timestamp()),
        "status": invoice.status,
        "is_final": invoice.is_final,
        "additional_data": invoice.additional_data,
        "comments": None,
        "created_at": moscow(invoice.created_at),
        "updated_at": moscow(invoice.updated_at),
        "address_qr_code": None,
    }
