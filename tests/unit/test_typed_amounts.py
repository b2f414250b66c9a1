"""Amounts as people type them: a thousands separator is never a decimal point."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopbot.domain.errors import InvalidAmount
from shopbot.domain.money import MAX_AMOUNT, format_amount, parse_amount, parse_positive_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7,5", "7.50"),
        ("7.5", "7.50"),
        ("1500", "1500.00"),
        ("1 500", "1500.00"),
        ("1\u00a0500", "1500.00"),  # no-break space
        ("1\u202f500", "1500.00"),  # narrow no-break space (French)
        ("1,500.00", "1500.00"),
        ("1.500,50", "1500.50"),
        ("1,234,567", "1234567.00"),
        ("1.234.567,89", "1234567.89"),
        ("1 234 567,5", "1234567.50"),
        ("0,500", "0.50"),
        ("12,345.6", "12345.60"),
        (" 10 ", "10.00"),
    ],
)
def test_what_people_mean(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1,500", "1.500", "12,500", "123.456", "1,000", "-1,500"])
def test_one_separator_before_three_digits_is_ambiguous(text: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.code == "ambiguous"
    assert "1500" in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "$5",
        "5$",
        "5 USDT",
        "\u0661\u0665",  # Arabic-Indic digits
        "\uff11\uff15",  # full-width digits
        "1,5,0",
        "1,50,000",
        "1 50",
        "1,500.000,00",
        "1.500.00",
        "0x10",
        "1_000",
        "",
        "--5",
    ],
)
def test_anything_else_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.code == "not_a_number"


def test_codes_for_the_other_refusals() -> None:
    for text, code in (("7.5555", "decimals"), ("10000000000000000", "too_large")):
        with pytest.raises(InvalidAmount) as refused:
            parse_amount(text)
        assert refused.value.code == code
    with pytest.raises(InvalidAmount) as refused:
        parse_positive_amount("-5")
    assert refused.value.code == "not_positive"


amounts = st.decimals(
    min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False
)


@given(amounts)
def test_what_the_shop_prints_reads_back_as_the_same_amount(amount: Decimal) -> None:
    number, _currency = format_amount(amount, "USD").split(" ")
    assert parse_amount(number) == amount
    assert parse_amount(number.replace(".", ",")) == amount


@given(amounts.filter(lambda a: a >= 1000))
def test_grouped_forms_read_back(amount: Decimal) -> None:
    english = f"{amount:,.2f}"  # 1,234,567.89
    european = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    spaced = english.replace(",", "\u00a0")
    for text in (english, european, spaced):
        assert parse_amount(text) == amount
