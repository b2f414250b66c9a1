"""Refused operator files as data: each problem a code with parameters, so the bot can
word it in the operator's language; str() stays the CLI's English."""

import re

import pytest

from shopbot.bot.file_refusals import MAX_SHOWN, file_refusal_text
from shopbot.bot.telegram_text import visible_length
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.stock import MAX_ITEM_LENGTH, parse_stock_file, read_stock_file
from shopbot.domain.errors import InvalidInput
from shopbot.domain.file_problems import MAX_KEPT, PROBLEM_CODES, FileRefused, Problem
from shopbot.domain.operator_files import MAX_OPERATOR_FILE, decode_operator_file

SECRET = "KEY-7f3a9"


def refusal(raw: bytes) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        read_stock_file(raw)
    return caught.value


def problems(raw: bytes) -> list[tuple[str, dict[str, int | str]]]:
    return [(p.code, dict(p.params)) for p in refusal(raw).problems]


def test_a_refusal_is_still_invalid_input_with_the_english_text() -> None:
    error = refusal(f"{SECRET}\n{SECRET}\n".encode())
    assert isinstance(error, InvalidInput)
    assert str(error) == "invalid stock file:\n  line 2: duplicate of line 1"
    assert error.total == 1


def test_line_problems_carry_line_numbers_and_code_points() -> None:
    raw = f"{SECRET}\nA\u200bB\n{'x' * (MAX_ITEM_LENGTH + 1)}\n{SECRET}\n".encode()
    assert problems(raw) == [
        (
            "invisible_character",
            {"line": 2, "code_point": "U+200B", "name": "ZERO WIDTH SPACE"},
        ),
        ("too_long", {"line": 3, "limit": MAX_ITEM_LENGTH}),
        ("duplicate", {"line": 4, "first_line": 1}),
    ]


def test_file_level_problems() -> None:
    assert problems(b"KEY-1\nKEY-\x002\n\x07\n") == [
        ("control_character", {"line": 2, "code_point": "U+0000"}),
        ("control_character", {"line": 3, "code_point": "U+0007"}),
    ]
    assert problems(b"\n  \n") == [("no_items", {})]
    assert problems(b"KEY-1\n\xff\n") == [("undecodable", {"encoding": "UTF-8", "line": 2})]
    assert problems("KEY-1\nKEY-2\n".encode("utf-16-le")) == [("utf16_without_bom", {})]
    with pytest.raises(FileRefused) as caught:
        decode_operator_file(b"x" * (MAX_OPERATOR_FILE + 1))
    assert [(p.code, dict(p.params)) for p in caught.value.problems] == [
        ("file_too_large", {"limit_mb": 10})
    ]


def test_all_problems_are_counted_but_only_some_kept() -> None:
    error = refusal(b"K\n" * (MAX_KEPT + 50))
    assert error.total == MAX_KEPT + 49
    assert len(error.problems) == MAX_KEPT
    assert error.problems[0].params == {"line": 2, "first_line": 1}


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown file problem code"):
        Problem("spelling")


SAMPLE_PARAMS: dict[str, int | str] = {
    "limit_mb": 10,
    "encoding": "UTF-8",
    "line": 7,
    "code_point": "U+200B",
    "name": "ZERO WIDTH SPACE",
    "limit": MAX_ITEM_LENGTH,
    "first_line": 3,
    "sku": "keys",
    "kind": "manual",
    "count": 4,
}


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("code", [*PROBLEM_CODES, "more"])
def test_every_code_has_a_text_in_both_languages(language: str, code: str) -> None:
    t = Texts(language)
    key = f"stock_file.{code}"
    assert t.has(key)
    text = t(key, **SAMPLE_PARAMS)  # a parameter the template needs but lacks: KeyError
    assert "{" not in text
    if language == "ru":
        shown = re.sub(r"<[^>]*>", "", text)
        words = set(re.findall(r"[A-Za-z]{3,}", shown)) - {"UTF", "Telegram", "keys"}
        assert not words, text


def test_the_bot_text_lists_twenty_then_counts_the_rest() -> None:
    error = refusal(b"K\n" * 31)  # 30 duplicates
    text = file_refusal_text(Texts("ru"), error, "admin.stock.refused")
    lines = text.splitlines()
    assert lines[0] == "⚠️ Ничего не добавлено."
    assert lines[1] == "строка 2: повтор строки 1"
    assert len(lines) == 1 + MAX_SHOWN + 1
    assert lines[-1] == "… и ещё 10"


def test_the_bot_text_fits_a_telegram_message() -> None:
    long_names = FileRefused(
        "x", [Problem("not_stock_product", {"sku": "s" * 300, "kind": "manual"})] * 30
    )
    text = file_refusal_text(Texts("en"), long_names, "admin.stock.refused", limit=1000)
    assert visible_length(text) <= 1000
    assert text.endswith("more")


def test_parse_stock_file_keeps_its_items_when_nothing_is_wrong() -> None:
    assert [line.item for line in parse_stock_file("A\n\nB\n")] == ["A", "B"]
