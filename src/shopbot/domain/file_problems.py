"""What is wrong with an operator's file (a stock file, a catalog file), as data.

A refused file raises `FileRefused`: its `str()` is the English text the CLI prints,
its `problems` are codes with parameters, so the bot can say the same in the
operator's language (texts/*/stock_files.yaml, key "stock_file.<code>"). Problems name
line numbers and code points, never the content: stock lines are secrets.

Codes and their parameters:

- file_too_large: limit_mb (int, MiB)
- utf16_without_bom: (none)
- undecodable: encoding (str, e.g. "UTF-8"), line (int)
- control_character: line (int), code_point (str, "U+0000")
- too_long: line (int), limit (int, UTF-16 code units)
- invisible_character: line (int), code_point (str), name (str, the Unicode name: English,
  so the bot's texts show the code point only)
- duplicate: line (int), first_line (int)
- no_items: (none)
- in_stock: line (int); the item is already stored for the product
- not_stock_product: sku (str), kind (str, ProductKind value)
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from shopbot.domain.errors import InvalidInput

PROBLEM_CODES: Final = (
    "file_too_large",
    "utf16_without_bom",
    "undecodable",
    "control_character",
    "too_long",
    "invisible_character",
    "duplicate",
    "no_items",
    "in_stock",
    "not_stock_product",
)

MAX_KEPT: Final = 100
"""Problems kept as data per refusal (all are counted): a 10 MB file of duplicates
has millions, and no reader lists more than a screenful."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file: `code` (one of PROBLEM_CODES) and the `params`
    its text needs (see the module docstring)."""

    code: str
    params: Mapping[str, int | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in PROBLEM_CODES:
            raise ValueError(f"unknown file problem code {self.code!r}")


class FileRefused(InvalidInput):
    """An operator's file was refused; nothing was changed.

    `str()` is `message` (English, for the CLI); `problems` holds the first MAX_KEPT
    problems in file order and `total` counts them all."""

    def __init__(self, message: str, problems: Iterable[Problem]) -> None:
        super().__init__(message)
        kept: list[Problem] = []
        total = 0
        for problem in problems:
            total += 1
            if len(kept) < MAX_KEPT:
                kept.append(problem)
        self.problems: tuple[Problem, ...] = tuple(kept)
        self.total = total
