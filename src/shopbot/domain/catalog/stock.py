"""Parsing of stock files: one secret item per line."""

from dataclasses import dataclass

from shopbot.domain.catalog.limits import MAX_ITEM_LENGTH, telegram_length
from shopbot.domain.errors import InvalidInput

__all__ = ["MAX_ITEM_LENGTH", "StockLine", "parse_stock_file", "parse_stock_lines"]


@dataclass(frozen=True, slots=True)
class StockLine:
    number: int
    item: str


def parse_stock_lines(text: str) -> list[str]:
    return [line.item for line in parse_stock_file(text)]


def parse_stock_file(text: str) -> list[StockLine]:
    """Items in file order; blank lines are ignored, duplicates and lines over
    MAX_ITEM_LENGTH UTF-16 code units (catalog.limits) refused.

    Error messages name line numbers, never the items: stock items are secrets.
    """
    items: list[StockLine] = []
    first_seen: dict[str, int] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if not item:
            continue
        if telegram_length(item) > MAX_ITEM_LENGTH:
            problems.append(
                f"line {number}: longer than {MAX_ITEM_LENGTH} characters"
                " (as Telegram counts them: an emoji may count 2)"
            )
        elif item in first_seen:
            problems.append(f"line {number}: duplicate of line {first_seen[item]}")
        else:
            first_seen[item] = number
            items.append(StockLine(number, item))
    if problems:
        raise InvalidInput("invalid stock file:\n  " + "\n  ".join(problems))
    if not items:
        raise InvalidInput("invalid stock file: no items")
    return items
