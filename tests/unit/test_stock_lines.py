"""Stock files: one secret item per line; errors name lines, never items."""

import pytest

from shopbot.domain.catalog.stock import MAX_ITEM_LENGTH, parse_stock_lines
from shopbot.domain.errors import InvalidInput


def problem(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_stock_lines(text)
    return str(caught.value)


def test_items_in_file_order() -> None:
    assert parse_stock_lines("KEY-B\nKEY-A\nKEY-C\n") == ["KEY-B", "KEY-A", "KEY-C"]


def test_blank_lines_are_ignored_and_items_stripped() -> None:
    text = "\n  KEY-1  \n\n   \n\tKEY-2\r\nKEY-3"

    assert parse_stock_lines(text) == ["KEY-1", "KEY-2", "KEY-3"]


def test_windows_line_endings() -> None:
    assert parse_stock_lines("A-1\r\nA-2\r\n") == ["A-1", "A-2"]


def test_inner_whitespace_is_kept() -> None:
    assert parse_stock_lines("login: bob password: x y\n") == ["login: bob password: x y"]


def test_duplicates_are_refused_by_line_number_without_the_item() -> None:
    secret = "SECRET-KEY-7f3a9"
    text = f"{secret}\n\nOTHER-KEY-1\n{secret}\n"

    message = problem(text)

    assert message == "invalid stock file:\n  line 4: duplicate of line 1"
    assert secret not in message
    assert "OTHER-KEY-1" not in message


def test_every_duplicate_is_listed() -> None:
    message = problem("AAA-1\nBBB-2\nAAA-1\nBBB-2\nAAA-1\nCCC-3\n")

    assert message.splitlines()[1:] == [
        "  line 3: duplicate of line 1",
        "  line 4: duplicate of line 2",
        "  line 5: duplicate of line 1",
    ]
    for item in ("AAA-1", "BBB-2", "CCC-3"):
        assert item not in message


def test_duplicates_after_stripping_are_refused() -> None:
    message = problem("  TOKEN-XYZ\nTOKEN-XYZ  \n")

    assert "line 2: duplicate of line 1" in message
    assert "TOKEN-XYZ" not in message


def test_oversized_line_is_refused_without_the_item() -> None:
    huge = "Q" * (MAX_ITEM_LENGTH + 1)

    message = problem(f"OK-ITEM\n{huge}\n")

    assert message == (
        f"invalid stock file:\n  line 2: longer than {MAX_ITEM_LENGTH} characters"
        " (as Telegram counts them: an emoji may count 2)"
    )
    assert "OK-ITEM" not in message
    assert "QQQQ" not in message


def test_item_length_counts_utf16_code_units_as_telegram_does() -> None:
    emoji = "😀" * (MAX_ITEM_LENGTH // 2)  # 2000 characters, 4000 code units
    cyrillic = "я" * MAX_ITEM_LENGTH

    assert parse_stock_lines(f"{emoji}\n{cyrillic}") == [emoji, cyrillic]
    assert "line 1: longer than" in problem(emoji + "x")
    assert "line 1: longer than" in problem("я" * (MAX_ITEM_LENGTH + 1))


def test_item_of_maximum_length_is_accepted() -> None:
    longest = "Z" * MAX_ITEM_LENGTH

    assert parse_stock_lines(longest) == [longest]


@pytest.mark.parametrize("text", ["", "\n", "\n\n   \n\t\n", "\r\n\r\n"])
def test_empty_file_is_refused(text: str) -> None:
    assert problem(text) == "invalid stock file: no items"


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
COOK = "\U0001f9d1\U0001f3fd\u200d\U0001f373"  # person, skin tone, ZWJ, cooking
HEART = "\u2764\ufe0f\u200d\U0001f525"  # heart, VS16, ZWJ, fire


@pytest.mark.parametrize("symbol", [FAMILY, COOK, HEART])
def test_emoji_joined_by_zwj_are_one_visible_symbol(symbol: str) -> None:
    assert parse_stock_lines(f"KEY-{symbol}-1\n") == [f"KEY-{symbol}-1"]


@pytest.mark.parametrize("item", ["AB\u200dCD", "\U0001f468\u200dA", "A\u200d\U0001f469"])
def test_a_zwj_between_letters_is_hidden(item: str) -> None:
    with pytest.raises(InvalidInput, match="line 1: invisible character U\\+200D"):
        parse_stock_lines(f"{item}\n")
