"""Identifiers that arrive from outside: Telegram ids, database ids, ids typed by people.

Every id is stored as BIGINT (PostgreSQL `bigint`, SQLite `INTEGER`): a signed 64-bit
integer. Telegram documents user and chat ids as fitting in a signed 64-bit integer
(Bot API, `User.id`: "at most 52 significant bits"), and the shop's own row ids are
positive. A number outside that range names nothing: it is treated as "no such id"
before it reaches SQL, where PostgreSQL would fail with "value out of int64 range" and
SQLite with OverflowError.
"""

import re
from typing import Annotated, Final

from pydantic import Field

MAX_ID: Final = 2**63 - 1
"""The largest BIGINT: the upper bound of every stored id."""

_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)

DbId = Annotated[int, Field(ge=0, le=MAX_ID)]
"""An id field of data that comes back from outside (callback data): 0 means "none"."""


def is_id(value: int) -> bool:
    """Whether `value` can be a stored id: 1 ≤ value ≤ 2**63 - 1."""
    return 1 <= value <= MAX_ID


def parse_id(text: str) -> int | None:
    """The id written in `text` (ASCII digits only, no sign, spaces around allowed), or None
    when it is not a number or is outside 1 ≤ id ≤ 2**63 - 1.

    Only ASCII digits: Python's int() also reads Arabic-Indic or full-width digits,
    which no id is written in.
    """
    stripped = text.strip()
    if _DIGITS.fullmatch(stripped) is None:
        return None
    value = int(stripped)
    return value if is_id(value) else None
