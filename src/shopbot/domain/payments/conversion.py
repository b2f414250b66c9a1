"""What a crypto payment is worth in the shop currency."""

from decimal import ROUND_DOWN, Decimal

from shopbot.domain.money import MINOR_UNIT
from shopbot.domain.payments.models import PaymentEvent


def received_value(
    event: PaymentEvent, invoice_amount: Decimal, invoice_currency: str
) -> Decimal | None:
    """The received money in the invoice (= shop) currency, rounded down to the cent so
    the shop never credits more than arrived; None when the event does not say enough.

    Heleket reports `payment_amount` in `payer_currency`, and `payer_amount` as what the
    payer had to pay for the whole invoice, so the invoice's own rate converts it.
    """
    paid = event.payment_amount
    if paid is None or paid < 0:
        return None
    if event.payer_currency in (None, invoice_currency):
        value = paid
    elif event.payer_amount is not None and event.payer_amount > 0:
        value = invoice_amount * paid / event.payer_amount
    elif invoice_currency == "USD" and event.payment_amount_usd is not None:
        value = event.payment_amount_usd
    else:
        return None
    return value.quantize(MINOR_UNIT, rounding=ROUND_DOWN)
