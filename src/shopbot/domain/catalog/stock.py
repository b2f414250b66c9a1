"""Parsing of stock files: one secret item per line."""

from shopbot.domain.errors import InvalidInput

MAX_ITEM_LENGTH = 4000


def parse_stock_lines(text: str) -> list[str]:
    """Items in file order; blank lines are ignored, duplicates and oversized lines refused.

    Error messages name line numbers, never the items: stock items are secrets.
    """
    items: list[str] = []
    first_seen: dict[str, int] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if not item:
            continue
        if len(item) > MAX_ITEM_LENGTH:
            problems.append(f"line {number}: longer than {MAX_ITEM_LENGTH} characters")
        elif item in first_seen:
            problems.append(f"line {number}: duplicate of line {first_seen[item]}")
        else:
            first_seen[item] = number
            items.append(item)
    if problems:
        raise InvalidInput("invalid stock file:\n  " + "\n  ".join(problems))
    if not items:
        raise InvalidInput("invalid stock file: no items")
    return items
