"""Exact money: `Decimal` in the shop currency, two decimal places, never `float`."""

from decimal import Decimal, InvalidOperation
from typing import Final

from shopbot.domain.errors import InvalidAmount

MINOR_UNIT: Final = Decimal("0.01")
# NUMERIC(18, 2) in the database.
MAX_AMOUNT: Final = Decimal("9999999999999999.99")
ZERO: Final = Decimal("0.00")


def parse_amount(value: object) -> Decimal:
    """Parse an amount given as text, int or Decimal; floats are refused as inexact.

    Accepts at most two decimal places and rejects NaN, infinities and values beyond the
    storage range. The result is quantized to the minor unit (e.g. ``Decimal("5.00")``).
    """
    if isinstance(value, (bool, float)):
        raise InvalidAmount(f"amount {value!r} must be given as text or an integer, not a float")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount(f"{value!r} is not a number") from None
    else:
        raise InvalidAmount(f"{value!r} is not an amount")
    if not number.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite number")
    # Compare magnitudes before any arithmetic: huge exponents overflow the context.
    if number.adjusted() > MAX_AMOUNT.adjusted() or abs(number) > MAX_AMOUNT:
        raise InvalidAmount(f"{value!r} is too large")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(MINOR_UNIT):
        raise InvalidAmount(f"{value!r} has more than two decimal places")
    return number.quantize(MINOR_UNIT)


def parse_positive_amount(value: object) -> Decimal:
    amount = parse_amount(value)
    if amount <= 0:
        raise InvalidAmount(f"amount must be positive, got {amount}")
    return amount


def format_amount(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(MINOR_UNIT)} {currency}"
