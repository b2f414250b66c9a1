"""A tiny Laravel-style validator producing Heleket's 422 `errors` (SPEC §1.3).

Rule names are Laravel's untranslated message keys: `validation.required`,
`validation.alpha_dash`, ...; size rules carry the attribute type like Laravel does:
`validation.max.string`, `validation.min.numeric`.

Absent, null and "" values are "absent": only `required*` rules apply to them.
"""

import re
import uuid as uuid_lib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

Rule = str | tuple[str, Any]
Schema = Mapping[str, Sequence[Rule]]

_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
_ALPHA_DASH = re.compile(r"^[A-Za-z0-9_-]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_SIZE_RULES = {"min", "max", "gt"}
_TYPE_RULES = {"string", "numeric", "integer", "boolean", "array"}


def absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def to_decimal(value: Any) -> Decimal | None:
    """The number a Laravel `numeric` field holds, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = repr(value)
    if not isinstance(value, str) or not _NUMERIC.match(value.strip()):
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_bool(value: Any) -> bool | None:
    """Laravel `boolean`: true, false, 0, 1, "0", "1"."""
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return value in (1, "1")
    return None


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return None


def _size(value: Any, kind: str) -> Decimal | None:
    if kind == "numeric":
        return to_decimal(value)
    if kind == "array":
        return Decimal(len(value)) if isinstance(value, list | dict) else None
    return Decimal(len(value)) if isinstance(value, str) else None


def _type_ok(rule: str, value: Any) -> bool:
    if rule == "string":
        return isinstance(value, str)
    if rule == "numeric":
        return to_decimal(value) is not None
    if rule == "integer":
        return to_int(value) is not None
    if rule == "boolean":
        return to_bool(value) is not None
    return isinstance(value, list)  # array


def _other_ok(rule: str, arg: Any, value: Any) -> bool:
    if rule == "alpha_dash":
        return isinstance(value, str) and bool(_ALPHA_DASH.match(value))
    if rule == "url":
        if not isinstance(value, str) or any(c.isspace() for c in value):
            return False
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    if rule == "uuid":
        try:
            uuid_lib.UUID(str(value))
        except ValueError:
            return False
        return isinstance(value, str) and len(value) == 36
    if rule == "in":
        return value in arg
    if rule == "date_format":
        try:
            datetime.strptime(str(value), arg)  # noqa: DTZ007 - naive by design
        except ValueError:
            return False
        return True
    raise ValueError(f"unknown rule {rule}")


def validate(data: Mapping[str, Any], schema: Schema) -> dict[str, list[str]]:
    """Laravel-like validation; returns {field: ["validation.rule", ...]} (empty if valid)."""
    errors: dict[str, list[str]] = {}
    for field, rules in schema.items():
        value = data.get(field)
        names = [r if isinstance(r, str) else r[0] for r in rules]
        kind = next((n for n in ("numeric", "integer", "array") if n in names), "string")
        kind = "numeric" if kind == "integer" else kind
        failed: list[str] = []
        if absent(value):
            for rule in rules:
                if rule == "required":
                    failed.append("validation.required")
                elif (
                    isinstance(rule, tuple)
                    and rule[0] == "required_without"
                    and absent(data.get(rule[1]))
                ):
                    failed.append("validation.required_without")
            if failed:
                errors[field] = failed
            continue
        type_failed = False
        for rule in rules:
            name, arg = (rule, None) if isinstance(rule, str) else rule
            if name in ("required", "required_without"):
                continue
            if name in _TYPE_RULES:
                if not _type_ok(name, value):
                    failed.append(f"validation.{name}")
                    type_failed = True
            elif name in _SIZE_RULES:
                size = None if type_failed else _size(value, kind)
                if size is None or arg is None:
                    continue
                bad = {"min": size < arg, "max": size > arg, "gt": size <= arg}[name]
                if bad:
                    failed.append(f"validation.{name}.{kind}")
            elif not _other_ok(name, arg, value):
                failed.append(f"validation.{name}")
        if failed:
            errors[field] = failed
    return errors
