"""Ids from outside: one rule (1 to 2**63 - 1, ASCII digits) for every edge."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopbot.bot.callbacks import OrderCB, ProductCB, TopupCB
from shopbot.domain.ids import MAX_ID, is_id, parse_id
from shopbot.domain.payments.stars import StarsPayload


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1001", 1001),
        (" 17 ", 17),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 20, None),
        ("0", None),
        ("-5", None),
        ("+5", None),
        ("1_000", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits
        ("\uff11\uff12", None),  # full-width digits
        ("\u00b2", None),  # superscript two: str.isdigit() says yes
        ("", None),
        ("12a", None),
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected


@given(st.integers())
def test_parse_id_accepts_exactly_the_storable_ids(value: int) -> None:
    assert parse_id(str(value)) == (value if 1 <= value <= MAX_ID else None)
    assert is_id(value) == (1 <= value <= MAX_ID)


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (ProductCB, f"prod:{'9' * 20}:0:0"),
        (ProductCB, "prod:-1:0:0"),
        (ProductCB, f"prod:1:0:{'9' * 20}"),
        (OrderCB, f"ord:{2**63}"),
        (TopupCB, f"top:{'9' * 20}:0:0"),
    ],
)
def test_forged_callback_data_with_impossible_numbers_does_not_unpack(cls, data: str) -> None:
    with pytest.raises(ValueError, match="validation error"):
        cls.unpack(data)


def test_bounded_callback_data_still_round_trips() -> None:
    packed = ProductCB(product_id=MAX_ID, category_id=0, page=3).pack()
    assert ProductCB.unpack(packed).product_id == MAX_ID


@pytest.mark.parametrize(
    "payload",
    [f"st1:{'9' * 20}:500:0:250", f"st1:7:500:{'9' * 20}:250", f"st1:{2**63}:500:0:250"],
)
def test_stars_payload_with_impossible_ids_is_malformed(payload: str) -> None:
    assert StarsPayload.decode(payload) is None
    assert StarsPayload.decode("st1:7:500:0:250") is not None
