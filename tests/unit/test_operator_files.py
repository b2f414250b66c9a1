"""Operator files as people save them: one reader (BOM, UTF-16, CRLF, NFC, controls)."""

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopbot.domain.catalog.stock import parse_stock_lines, read_stock_file
from shopbot.domain.errors import InvalidInput
from shopbot.domain.operator_files import MAX_OPERATOR_FILE, decode_operator_file

SECRET = "KEY-7f3a9"


def items(raw: bytes) -> list[str]:
    return [line.item for line in read_stock_file(raw)]


@pytest.mark.parametrize(
    "raw",
    [
        b"KEY-1\nKEY-2\n",
        codecs.BOM_UTF8 + b"KEY-1\r\nKEY-2\r\n",  # Notepad "UTF-8 with BOM"
        b"KEY-1\rKEY-2",  # classic Mac
        codecs.BOM_UTF16_LE + "KEY-1\r\nKEY-2\r\n".encode("utf-16-le"),  # Notepad "Unicode"
        codecs.BOM_UTF16_BE + "KEY-1\nKEY-2".encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "KEY-1\nKEY-2".encode("utf-32-le"),
        b"KEY-1\n" + codecs.BOM_UTF8 + b"KEY-2\n",  # two files joined with cat
        "\u200bKEY-1\u00a0\nKEY-2\ufeff\n".encode(),  # invisible characters at the ends
    ],
)
def test_the_same_keys_however_the_file_was_saved(raw: bytes) -> None:
    assert items(raw) == ["KEY-1", "KEY-2"]


def test_a_bom_copy_of_a_key_is_a_duplicate() -> None:
    with pytest.raises(InvalidInput, match="line 2: duplicate of line 1"):
        items(codecs.BOM_UTF8 + b"KEY-1\r\n\xef\xbb\xbfKEY-1\r\n")


def test_composed_and_decomposed_letters_are_one_key() -> None:
    composed, decomposed = "caf\u00e9-1", "cafe\u0301-1"
    with pytest.raises(InvalidInput, match="line 2: duplicate of line 1"):
        parse_stock_lines(f"{composed}\n{decomposed}\n")
    assert items(decomposed.encode()) == [composed]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (f"OK-1\n{SECRET}\x00\n".encode(), "line 2: control character U+0000"),
        (f"{SECRET}\x1b[31m\n".encode(), "line 1: control character U+001B"),
        (f"A\nB\n{SECRET}\u2028X\n".encode(), "line 3: control character U+2028"),
        (f"{SECRET}\u200bX\n".encode(), "line 1: invisible character U+200B ZERO WIDTH SPACE"),
        (f"{SECRET}\u00a0X\n".encode(), "line 1: invisible character U+00A0 NO-BREAK SPACE"),
        (f"{SECRET}\ufeffX\n".encode(), "line 1: invisible character U+FEFF"),
    ],
)
def test_what_is_not_text_is_refused_by_line_without_the_item(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        items(raw)
    assert problem in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (f"{SECRET}\n".encode("cp1251") + "ключ\n".encode("cp1251"), "is not UTF-8 text"),
        ("KEY-1\nKEY-2".encode("utf-16-le"), "looks like UTF-16 without a BOM"),
        (b"x" * (MAX_OPERATOR_FILE + 1), "larger than 10 MB"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_operator_file(raw, "keys.txt")
    assert problem in str(refused.value)
    assert "keys.txt" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_the_undecodable_line_is_named() -> None:
    with pytest.raises(InvalidInput, match="undecodable byte at line 3"):
        decode_operator_file(b"A\nB\n\xff\n")


def test_tabs_inside_items_are_kept() -> None:
    assert items(b"login\tpassword\n") == ["login\tpassword"]


printable = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=30
)


@given(st.lists(printable, min_size=1, max_size=10, unique=True))
def test_bom_and_crlf_never_change_the_keys(keys: list[str]) -> None:
    plain = "\n".join(keys).encode()
    windows = codecs.BOM_UTF8 + "\r\n".join(keys).encode() + b"\r\n"
    try:
        expected = items(plain)
    except InvalidInput:  # e.g. two keys equal after NFC: both forms refuse
        with pytest.raises(InvalidInput):
            items(windows)
        return
    assert items(windows) == expected
