"""Amounts as people type them: a thousands separator is never a decimal point."""

from decimal import Decimal

import pytest
from hypothesis import example, given
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
        ("0,5", "0.50"),
        ("0.05", "0.05"),
        ("0", "0.00"),
        ("-0", "0.00"),
        ("+12", "12.00"),
        ("1.500.000,5", "1500000.50"),
        ("1 500,5", "1500.50"),
        ("1 500.50", "1500.50"),
        ("1,500.50", "1500.50"),
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
        "+-5",
        "1,500,00",  # a group of two: neither grouping nor a decimal point
        "1.500.000.5",
        "1 5",
        ".5",
        "5.",
        "1.5e3",
        "1:30",
        "0b101",
        " ",
        "1" * 41,  # longer than any amount: refused before any pattern work
        "1 " * 5000,
    ],
)
def test_anything_else_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.code == "not_a_number"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Read with the zeros dropped these were 1.50: 15000 may have been meant.
        ("1,5000", "ambiguous"),
        ("1.5000", "ambiguous"),
        ("1,500.000", "ambiguous"),
        ("1.500,000", "ambiguous"),
        ("1 500.000", "ambiguous"),
        ("12345,000", "ambiguous"),
        ("0,500", "decimals"),
        ("0.100", "decimals"),
        ("7.5550", "decimals"),
        # A leading zero is never dropped silently: "01,500" was 1.50.
        ("01,500", "leading_zero"),
        ("+01,500", "leading_zero"),
        ("-01,500", "leading_zero"),
        ("007", "leading_zero"),
        ("00", "leading_zero"),
        ("00,5", "leading_zero"),
        ("015", "leading_zero"),
    ],
)
def test_typed_digits_are_never_dropped(text: str, code: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.code == code
    assert repr(text) in str(refused.value)


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


def readings(text: str) -> set[Decimal]:
    """What a person may have meant by `text`, keeping every digit typed: every
    separator a thousands mark, or the last "," / "." a decimal point (with at most two
    decimals after it, as money has) and the others thousands marks."""
    cleaned = text.strip().translate(str.maketrans("\u00a0\u202f", "  "))
    sign = "-" if cleaned.startswith("-") else ""
    body = cleaned.lstrip("+-")
    found = {Decimal(sign + "".join(c for c in body if c.isdigit()) or "NaN")}
    point = max(body.rfind(","), body.rfind("."))
    if point >= 0:
        integer = "".join(c for c in body[:point] if c.isdigit())
        fraction = body[point + 1 :]
        if integer and fraction.isdigit() and len(fraction) <= 2:
            found.add(Decimal(f"{sign}{integer}.{fraction}"))
    return found


REFUSALS = {"ambiguous", "leading_zero", "decimals", "not_a_number", "too_large"}


def outcome(text: str) -> Decimal | InvalidAmount:
    """The amount read from `text`, or the refusal."""
    try:
        return parse_amount(text)
    except InvalidAmount as refused:
        return refused


typed = st.text(alphabet="0123456789 ,.+-\u00a0", max_size=16)


@given(typed)
@example("1,5000")  # the tester's finds: each was once read as 1.50
@example("01,500")
@example("+01,500")
@example("0,500")
@example("1.500,000")
def test_an_accepted_amount_is_a_reading_that_keeps_every_digit(text: str) -> None:
    amount = outcome(text)
    if isinstance(amount, Decimal):
        assert amount in readings(text)
        assert text.strip().lstrip("+-")[:1].isdigit()


@given(
    st.sampled_from(["", "+", "-"]),
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from(["", " ", ",", ".", "\u00a0"]),
    st.sampled_from(["", ",", "."]),
    st.text(alphabet="0123456789", max_size=4),
    st.integers(min_value=0, max_value=2),
)
def test_amounts_built_from_parts(
    sign: str, integer: int, group: str, point: str, fraction: str, zeros: int
) -> None:
    """Amounts assembled the ways people write them, with leading zeros sometimes."""
    digits = f"{integer:,}".replace(",", group) if group != point else str(integer)
    text = sign + "0" * zeros + digits + (point + fraction if point and fraction else "")
    amount = outcome(text)
    if isinstance(amount, InvalidAmount):
        assert amount.code in REFUSALS
    else:
        assert amount in readings(text)
        assert zeros == 0  # a leading zero is refused, never dropped


@given(st.text(max_size=60))
# found by hypothesis: escapes of characters repr cannot show, ten characters each
@example(
    "0" * 16
    + "\x1f" * 7
    + "\U00010b92\U00010bb0\U0001342f"
    + "\U00018cd6" * 2
    + "\U00018d09" * 3
    + "\U0001dab0"
)
def test_any_text_is_an_amount_or_a_clear_refusal(text: str) -> None:
    amount = outcome(text)
    if isinstance(amount, InvalidAmount):
        assert amount.code in REFUSALS
        assert len(str(amount)) < 200  # the typed text is quoted cut short
    else:
        assert amount in readings(text)
