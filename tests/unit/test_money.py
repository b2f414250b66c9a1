"""Exact money parsing: text, int and Decimal in; floats, non-numbers and sub-cent out."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopbot.domain.errors import DomainError, InvalidAmount
from shopbot.domain.money import (
    MAX_AMOUNT,
    format_amount,
    from_minor_units,
    parse_amount,
    parse_positive_amount,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", "10.00"),
        ("9.99", "9.99"),
        ("1,50", "1.50"),
        ("  7 ", "7.00"),
        ("0.1", "0.10"),
        (Decimal("0.500"), "0.50"),  # a Decimal, not typed text ("0.500" typed is refused)
        ("-4.20", "-4.20"),
        ("0", "0.00"),
        (Decimal("2.5"), "2.50"),
        (Decimal("9.99"), "9.99"),
        (3, "3.00"),
        (0, "0.00"),
        (-12, "-12.00"),
        ("9999999999999999.99", "9999999999999999.99"),
    ],
)
def test_parse_amount_accepts_exact_values(value: object, expected: str) -> None:
    amount = parse_amount(value)

    assert type(amount) is Decimal
    assert amount == Decimal(expected)
    # Always quantized to the minor unit, so str() shows exactly two places.
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "not a float"),
        (0.1, "not a float"),
        (10.0, "not a float"),
        (True, "not a float"),
        (False, "not a float"),
        ("abc", "is not an amount: write"),
        ("", "is not an amount: write"),
        ("1.2.3", "is not an amount: write"),
        ("NaN", "is not an amount: write"),
        ("nan", "is not an amount: write"),
        ("sNaN", "is not an amount: write"),
        ("Infinity", "is not an amount: write"),
        ("-Infinity", "is not an amount: write"),
        ("inf", "is not an amount: write"),
        (Decimal("NaN"), "not a finite number"),
        (Decimal("Infinity"), "not a finite number"),
        ("1.001", "ambiguous"),
        ("0.001", "more than two decimal places"),
        ("0.005", "more than two decimal places"),
        (Decimal("9.999"), "more than two decimal places"),
        ("10000000000000000", "too large"),
        ("10000000000000000.00", "too large"),
        ("-10000000000000000", "too large"),
        (MAX_AMOUNT + Decimal("0.01"), "too large"),
        (10**17, "too large"),
        (None, "is not an amount"),
        ([1], "is not an amount"),
        (b"10", "is not an amount"),
    ],
)
def test_parse_amount_rejects(value: object, message: str) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(value)

    assert message in str(caught.value)
    assert isinstance(caught.value, DomainError)


def test_bool_is_not_taken_for_an_integer() -> None:
    # bool is a subclass of int; True must not silently become 1.00.
    with pytest.raises(InvalidAmount):
        parse_amount(True)
    assert parse_amount(1) == Decimal("1.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.01", "0.01"), ("10", "10.00"), ("1,50", "1.50"), (5, "5.00"), (Decimal("9.99"), "9.99")],
)
def test_parse_positive_amount_accepts(value: object, expected: str) -> None:
    amount = parse_positive_amount(value)

    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.parametrize("value", ["0", "0.00", "-0", "-0.01", "-5", 0, -1, Decimal("-3.50")])
def test_parse_positive_amount_rejects_zero_and_negative(value: object) -> None:
    with pytest.raises(InvalidAmount, match="must be positive"):
        parse_positive_amount(value)


@pytest.mark.parametrize("value", [2.5, True, "abc", "NaN", "Infinity", "1.001", "1e17"])
def test_parse_positive_amount_applies_every_rule_of_parse_amount(value: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_positive_amount(value)


def test_format_amount_shows_two_places_and_currency() -> None:
    assert format_amount(Decimal("5"), "USD") == "5.00 USD"
    assert format_amount(Decimal("9.99"), "EUR") == "9.99 EUR"


@given(st.integers(min_value=-to_minor_units(MAX_AMOUNT), max_value=to_minor_units(MAX_AMOUNT)))
def test_minor_units_round_trip_from_count(count: int) -> None:
    amount = from_minor_units(count)

    assert amount.as_tuple().exponent == -2
    assert to_minor_units(amount) == count


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2))
def test_minor_units_round_trip_from_amount(amount: Decimal) -> None:
    count = to_minor_units(amount)

    assert from_minor_units(count) == amount
    assert count == amount * 100


@pytest.mark.parametrize(
    ("amount", "count"),
    [(Decimal("12.34"), 1234), (Decimal("0.05"), 5), (Decimal(7), 700), (Decimal("1E+3"), 100000)],
)
def test_to_minor_units_counts_cents(amount: Decimal, count: int) -> None:
    assert to_minor_units(amount) == count


@pytest.mark.parametrize(
    "amount", [Decimal("0.005"), Decimal("1.001"), Decimal("NaN"), Decimal("Infinity")]
)
def test_to_minor_units_refuses_what_is_not_whole_cents(amount: Decimal) -> None:
    with pytest.raises(InvalidAmount):
        to_minor_units(amount)
