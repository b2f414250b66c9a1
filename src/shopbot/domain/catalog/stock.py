"""Parsing of stock files: one secret item per line."""

import unicodedata
from dataclasses import dataclass

from shopbot.domain.catalog.limits import MAX_ITEM_LENGTH, telegram_length
from shopbot.domain.file_problems import FileRefused, Problem
from shopbot.domain.operator_files import decode_operator_file, normalize_operator_text

__all__ = [
    "MAX_ITEM_LENGTH",
    "StockLine",
    "parse_stock_file",
    "parse_stock_lines",
    "read_stock_file",
]


@dataclass(frozen=True, slots=True)
class StockLine:
    number: int
    item: str


def parse_stock_lines(text: str) -> list[str]:
    return [line.item for line in parse_stock_file(text)]


def read_stock_file(raw: bytes, name: str = "the file") -> list[StockLine]:
    """Items of a stock file as uploaded (bytes): `decode_operator_file`, then
    `parse_stock_file`. Raises FileRefused (an InvalidInput)."""
    return parse_stock_file(decode_operator_file(raw, name))


def parse_stock_file(text: str) -> list[StockLine]:
    """Items in file order; blank lines are ignored, duplicates and lines over
    MAX_ITEM_LENGTH UTF-16 code units (catalog.limits) refused.

    The text is normalised first (`normalize_operator_text`: line ends, NFC, control
    characters refused). Each line is stripped of whitespace and invisible format
    characters (Unicode category Cf: BOM, zero-width space, ...) at both ends, so a key
    that looks the same is the same key; such characters, or spaces other than U+0020
    and tab, inside an item are refused, as two items could look equal and differ.
    Raises FileRefused with the problems (codes too_long, invisible_character,
    duplicate, no_items, or the control characters' from `normalize_operator_text`);
    they name line numbers and code points, never the items: those are secrets.
    """
    items: list[StockLine] = []
    first_seen: dict[str, int] = {}
    problems: list[Problem] = []
    english: list[str] = []
    for number, line in enumerate(normalize_operator_text(text).split("\n"), start=1):
        item = _strip(line)
        if not item:
            continue
        hidden = _first_hidden(item)
        if telegram_length(item) > MAX_ITEM_LENGTH:
            problems.append(Problem("too_long", {"line": number, "limit": MAX_ITEM_LENGTH}))
            english.append(
                f"line {number}: longer than {MAX_ITEM_LENGTH} characters"
                " (as Telegram counts them: an emoji may count 2)"
            )
        elif hidden is not None:
            code_point, name = f"U+{ord(hidden):04X}", unicodedata.name(hidden, "unnamed")
            problems.append(
                Problem(
                    "invisible_character", {"line": number, "code_point": code_point, "name": name}
                )
            )
            english.append(f"line {number}: invisible character {code_point} {name}")
        elif item in first_seen:
            first = first_seen[item]
            problems.append(Problem("duplicate", {"line": number, "first_line": first}))
            english.append(f"line {number}: duplicate of line {first}")
        else:
            first_seen[item] = number
            items.append(StockLine(number, item))
    if problems:
        raise FileRefused("invalid stock file:\n  " + "\n  ".join(english), problems)
    if not items:
        raise FileRefused("invalid stock file: no items", [Problem("no_items")])
    return items


def _is_hidden(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Zs" and char != " ")


ZWJ = "\u200d"
VARIATION_SELECTOR_16 = "\ufe0f"


def _first_hidden(item: str) -> str | None:
    """The first invisible character inside `item`, if any. A zero-width joiner between
    two emoji (a family, a profession with a skin tone: Unicode UTS #51 ZWJ sequences)
    is part of a visible symbol, not hidden; between letters it would make two keys that
    look the same differ, so there it counts."""
    for index, char in enumerate(item):
        if not _is_hidden(char):
            continue
        if char == ZWJ and 0 < index < len(item) - 1:
            before, after = item[index - 1], item[index + 1]
            joins_emoji = unicodedata.category(after) == "So" and (
                before == VARIATION_SELECTOR_16 or unicodedata.category(before) in ("So", "Sk")
            )
            if joins_emoji:
                continue
        return char
    return None


def _strip(line: str) -> str:
    start, end = 0, len(line)
    while start < end and (line[start].isspace() or _is_hidden(line[start])):
        start += 1
    while end > start and (line[end - 1].isspace() or _is_hidden(line[end - 1])):
        end -= 1
    return line[start:end]
