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
_PLAIN = re.compile(r"(?P<sign>[+-]?)(?P<integer>[0-9]+)(?:[.,](?P<fraction>[0-9]+))?", re.ASCII)
_GROUPED = re.compile(
    r"(?P<sign>[+-]?)(?P<head>[1-9][0-9]{0,2})(?P<groups>(?:(?P<sep>[ ,.])[0-9]{3})"
    r"(?:(?P=sep)[0-9]{3})*)(?:(?P<point>[.,])(?P<fraction>[0-9]+))?",
    re.ASCII,
)
MAX_TYPED_LENGTH: Final = 40
"""Longest typed amount read (after trimming): MAX_AMOUNT grouped with a sign and two
decimals is 25 characters; anything longer is refused before any pattern work."""
EXAMPLES: Final = "1500, 1 500, 1,500.00, 1.500,00 or 7.50"


def parse_typed_amount(text: str) -> Decimal:
    """An amount as a person types it: ASCII digits, an optional sign, a decimal point
    that is "." or ",", and optional thousands groups (space, no-break space, "," or ".").

    "7,5" and "7.5" are 7.5; "1 500", "1,500.00" and "1.500,50" are 1500 and 1500.50;
    "1,234,567" is 1234567; "0,5" is 0.5. Whatever is accepted is the number written
    with every digit typed: nothing is dropped or guessed. Refused (InvalidAmount):

    - code ambiguous: one separator followed by exactly three digits ("1,500",
      "1.500": a thousands group in English, a decimal comma in much of Europe), and
      more than two decimals ending in zeros after a non-zero integer part ("1,5000",
      "1.500,000"), which would otherwise be read with the zeros dropped (1.50 where
      15000 may be meant); after 0 ("0,500") such zeros are code decimals;
    - code leading_zero: an integer part with a leading zero ("007", "01,500");
    - code not_a_number: exponents ("1e3"), currency signs ("$5"), Arabic-Indic or
      full-width digits, misplaced separators ("1,500,00", "1 50"), anything longer
      than MAX_TYPED_LENGTH characters, and anything else.

    More than two decimals otherwise ("7.5555"), the range and the sign are
    `parse_amount`'s.
    """
    cleaned = text.strip().translate(_GROUP_SPACES)
    if len(cleaned) > MAX_TYPED_LENGTH:
        raise InvalidAmount(f"{_shown(text)} is not an amount: write {EXAMPLES}")
    grouped = _GROUPED.fullmatch(cleaned)
    if grouped is not None and grouped["point"] != grouped["sep"]:
        groups = grouped["groups"]
        if grouped["point"] is None and len(groups) == 4 and grouped["sep"] in ",.":
            raise _ambiguous(text)
        sign, integer = grouped["sign"], grouped["head"] + groups.replace(grouped["sep"], "")
        fraction = grouped["fraction"] or ""
    else:
        plain = _PLAIN.fullmatch(cleaned)
        if plain is None:
            raise InvalidAmount(f"{_shown(text)} is not an amount: write {EXAMPLES}")
        sign, integer, fraction = plain["sign"], plain["integer"], plain["fraction"] or ""
        if len(integer) > 1 and integer.startswith("0"):
            raise InvalidAmount(
                f"{_shown(text)} starts with a zero: write the amount without leading zeros, "
                f"e.g. {EXAMPLES}",
                code="leading_zero",
            )
    if len(fraction) > 2 and not fraction[2:].strip("0"):
        # Reading it would drop typed zeros: "1,5000" may mean 15000, never silently 1.50.
        if integer.strip("0"):
            raise _ambiguous(text)
        raise InvalidAmount(f"{_shown(text)} has more than two decimal places", code="decimals")
    return Decimal(f"{sign}{integer}.{fraction or '0'}")


def shorten_typed(text: str) -> str:
    """What a person typed, cut to MAX_TYPED_LENGTH characters ("…" at the cut) for
    quoting it back: a pasted essay is not echoed, and a reply stays short."""
    if len(text) > MAX_TYPED_LENGTH:
        return text[: MAX_TYPED_LENGTH - 1] + "…"
    return text


def _shown(text: str) -> str:
    """`text` quoted for an error message (`repr`: what cannot be shown is escaped), at
    most MAX_TYPED_LENGTH characters between the quotes, an escape counting as the
    characters it takes; "…" at the cut, which falls between two typed characters.
    Cutting the text before escaping it (`shorten_typed`) let escapes of up to ten
    characters each make the message ten times longer."""
    quoted = repr(text)
    if len(quoted) - 2 <= MAX_TYPED_LENGTH:
        return quoted
    kept = ""
    for char in text:
        if len(repr(kept + char)) - 2 > MAX_TYPED_LENGTH - 1:
            break
        kept += char
    return repr(kept + "…")


def _ambiguous(text: str) -> InvalidAmount:
    return InvalidAmount(f"{_shown(text)} is ambiguous: write {EXAMPLES}", code="ambiguous")


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
    number = number.quantize(MINOR_UNIT)
    return abs(number) if number.is_zero() else number  # "-0" is 0.00, not -0.00


def parse_positive_amount(value: object) -> Decimal:
    amount = parse_amount(value)
    if amount <= 0:
        raise InvalidAmount(f"amount must be positive, got {amount}", code="not_positive")
    return amount


def to_minor_units(amount: Decimal) -> int:
    """`amount` as a whole number of minor units (cents): ``Decimal("12.34")`` is 1234.

    Exact: raises InvalidAmount (code "decimals") for a fraction of a minor unit
    (``Decimal("0.005")``) and for NaN or an infinity, never rounding or truncating.
    """
    if not amount.is_finite():
        raise InvalidAmount(f"{amount!r} is not a finite number")
    count = amount.scaleb(2)
    if count != count.to_integral_value():
        raise InvalidAmount(f"{amount} has more than two decimal places", code="decimals")
    return int(count)


def from_minor_units(count: int) -> Decimal:
    """A whole number of minor units (cents) as an amount with two decimal places:
    1234 is ``Decimal("12.34")``, 5 is ``Decimal("0.05")``. The inverse of
    `to_minor_units`."""
    return Decimal(count).scaleb(-2)


def format_amount(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(MINOR_UNIT)} {currency}"
