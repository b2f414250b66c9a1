"""Exact money: `Decimal` in the shop currency, two decimal places, never `float`."""

import re
from decimal import Decimal
from typing import Final

from shopbot.domain.errors import InvalidAmount

MINOR_UNIT: Final = Decimal("0.01")
# NUMERIC(18, 2) in the database.
MAX_AMOUNT: Final = Decimal("9999999999999999.99")
ZERO: Final = Decimal("0.00")


# Spaces people and keyboards put between digit groups: space, no-break space, narrow
# no-break space (U+202F, French), thin space, figure space.
_GROUP_SPACES = str.maketrans(dict.fromkeys("\u00a0\u202f\u2009\u2007", " "))
_PLAIN = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?", re.ASCII)
_GROUPED = re.compile(
    r"(?P<sign>[+-]?)(?P<head>[1-9][0-9]{0,2})(?P<groups>(?:(?P<sep>[ ,.])[0-9]{3})"
    r"(?:(?P=sep)[0-9]{3})*)(?:(?P<point>[.,])(?P<fraction>[0-9]+))?",
    re.ASCII,
)
EXAMPLES: Final = "1500, 1 500, 1,500.00, 1.500,00 or 7.50"


def parse_typed_amount(text: str) -> Decimal:
    """An amount as a person types it: ASCII digits, an optional sign, a decimal point
    that is "." or ",", and optional thousands groups (space, no-break space, "," or ".").

    "7,5" and "7.5" are 7.5; "1 500", "1,500.00" and "1.500,50" are 1500 and 1500.50;
    "1,234,567" is 1234567. One separator followed by exactly three digits ("1,500",
    "1.500") is refused as ambiguous (a thousands group in English, a decimal comma in
    much of Europe) rather than guessed. Exponents ("1e3"), currency signs ("$5"),
    Arabic-Indic or full-width digits and anything else are refused. Raises
    InvalidAmount with `code` not_a_number or ambiguous; the range and decimal checks
    are `parse_amount`'s.
    """
    cleaned = text.strip().translate(_GROUP_SPACES)
    grouped = _GROUPED.fullmatch(cleaned)
    if grouped is not None and grouped["point"] != grouped["sep"]:
        groups = grouped["groups"]
        if grouped["point"] is None and len(groups) == 4 and grouped["sep"] in ",.":
            raise InvalidAmount(f"{text!r} is ambiguous: write {EXAMPLES}", code="ambiguous")
        digits = grouped["head"] + groups.replace(grouped["sep"], "")
        fraction = f".{grouped['fraction']}" if grouped["fraction"] else ""
        return Decimal(f"{grouped['sign']}{digits}{fraction}")
    if _PLAIN.fullmatch(cleaned) is None:
        raise InvalidAmount(f"{text!r} is not an amount: write {EXAMPLES}")
    return Decimal(cleaned.replace(",", "."))


def parse_amount(value: object) -> Decimal:
    """Parse an amount given as text, int or Decimal; floats are refused as inexact.

    Text is read by `parse_typed_amount`. Accepts at most two decimal places and rejects
    NaN, infinities and values beyond the storage range (NUMERIC(18, 2)). The result is
    quantized to the minor unit (e.g. ``Decimal("5.00")``). Raises InvalidAmount.
    """
    if isinstance(value, (bool, float)):
        raise InvalidAmount(f"amount {value!r} must be given as text or an integer, not a float")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        number = parse_typed_amount(value)
    else:
        raise InvalidAmount(f"{value!r} is not an amount")
    if not number.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite number")
    # Compare magnitudes before any arithmetic: huge exponents overflow the context.
    if number.adjusted() > MAX_AMOUNT.adjusted() or abs(number) > MAX_AMOUNT:
        raise InvalidAmount(f"{value!r} is too large", code="too_large")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(MINOR_UNIT):
        raise InvalidAmount(f"{value!r} has more than two decimal places", code="decimals")
    return number.quantize(MINOR_UNIT)


def parse_positive_amount(value: object) -> Decimal:
    amount = parse_amount(value)
    if amount <= 0:
        raise InvalidAmount(f"amount must be positive, got {amount}", code="not_positive")
    return amount


def format_amount(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(MINOR_UNIT)} {currency}"
