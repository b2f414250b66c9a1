"""Command-line parameter types shared by the commands."""

from typing import Any

import click

from shopbot.domain.ids import MAX_ID, parse_id


class IdParam(click.ParamType[int]):
    """A user, order or product id: ASCII digits, 1 to 2**63 - 1 (BIGINT, see
    `shopbot.domain.ids`). Anything else is a usage error (exit 2), never a database error."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        parsed = parse_id(str(value))
        if parsed is None:
            self.fail(f"{value!r} is not an id (a whole number from 1 to {MAX_ID})", param, ctx)
        return parsed


ID = IdParam()
