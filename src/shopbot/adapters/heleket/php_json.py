"""PHP-compatible JSON (SPEC §4.3): what PHP 8.2 `json_decode($raw, true)` and
`json_encode($value, JSON_UNESCAPED_UNICODE)` do, byte for byte, with serialize_precision=-1.

Python values stand for PHP values: dict ↔ array with keys, list ↔ list array, str ↔ string
(valid UTF-8 only), int ↔ int (64-bit), float ↔ float, bool, None ↔ null. As in PHP, a dict
that is empty or whose keys are 0..n-1 in order (as ints or as the strings "0".."n-1") is
a list and is encoded as a JSON array; the decoder returns such objects as lists.
"""

import json
import math
import re
from decimal import Decimal
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DECODE_MAX_NESTING = 511  # json_decode fails from 512 nested arrays/objects (default depth)
ENCODE_MAX_NESTING = 512  # json_encode fails from 513

_STRING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def php_json_encode(value: Any) -> str:
    """PHP `json_encode($value, JSON_UNESCAPED_UNICODE)`; ValueError where PHP fails
    (NaN/INF, invalid UTF-8 such as lone surrogates, nesting deeper than 512)."""
    parts: list[str] = []
    _encode(value, parts, 0)
    text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("malformed UTF-8 characters (unpaired surrogate)") from None
    return text


def _encode(value: Any, out: list[str], depth: int) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value) if INT64_MIN <= value <= INT64_MAX else php_float(float(value)))
    elif isinstance(value, float):
        out.append(php_float(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, list | tuple | dict):
        if depth >= ENCODE_MAX_NESTING:
            raise ValueError("maximum stack depth exceeded")
        if isinstance(value, dict) and not _is_list(value):
            out.append("{")
            for index, (key, item) in enumerate(value.items()):
                out.append("," if index else "")
                out.append(_string(_key(key)) + ":")
                _encode(item, out, depth + 1)
            out.append("}")
        else:
            out.append("[")
            for index, item in enumerate(value.values() if isinstance(value, dict) else value):
                out.append("," if index else "")
                _encode(item, out, depth + 1)
            out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} has no PHP JSON form")


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"array keys must be str or int, not {type(key).__name__}")


def _is_list(value: dict[Any, Any]) -> bool:
    """PHP's zend_array_is_list: keys are exactly 0..n-1, in order."""
    return all(
        not isinstance(key, bool) and isinstance(key, str | int) and str(key) == str(index)
        for index, key in enumerate(value)
    )


def _string(text: str) -> str:
    # json.dumps already gives PHP's short escapes, lowercase \u00XX for other C0 controls,
    # raw DEL and raw non-ASCII; PHP also escapes "/" and the JS line terminators.
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("/", "\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def php_float(number: float) -> str:
    """A float as PHP prints it in JSON with serialize_precision=-1 (php_gcvt, mode 0)."""
    if not math.isfinite(number):
        raise ValueError("Inf and NaN cannot be JSON encoded")
    sign = "-" if math.copysign(1.0, number) < 0 else ""
    if number == 0:
        return sign + "0"
    # repr() gives the shortest round-trip digits, as zend_dtoa mode 0 does.
    _, digit_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    assert isinstance(exponent, int)
    point = len(digit_tuple) + exponent  # number = 0.DIGITS * 10**point
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    if point < -3 or point > 17:
        power = point - 1
        return f"{sign}{digits[0]}.{digits[1:] or '0'}e{'-' if power < 0 else '+'}{abs(power)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    whole = digits[:point].ljust(point, "0")
    return f"{sign}{whole}.{digits[point:]}" if len(digits) > point else sign + whole


def php_json_decode(raw: bytes) -> Any:
    """PHP `json_decode($raw, true)` as far as re-encoding is concerned; ValueError where
    PHP fails (invalid UTF-8, syntax, NaN/Infinity, unpaired surrogate escapes, nesting of
    512+) and for numbers that overflow to INF, which PHP cannot encode again."""
    text = raw.decode("utf-8")  # strict: UnicodeDecodeError is a ValueError
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise ValueError("maximum stack depth exceeded") from None
    if "\\u" in text or text.count("[") + text.count("{") > DECODE_MAX_NESTING:
        _check_strings_and_depth(text)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any] | list[Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        result[key] = item  # a duplicate key keeps its first position and takes the last value
    return list(result.values()) if _is_list(result) else result


def _integer(token: str) -> int | float:
    digits = token.lstrip("-")
    if len(digits) <= 19:
        number = int(token)
        if INT64_MIN <= number <= INT64_MAX:
            return number
    return _finite_float(token)  # PHP turns integers beyond int64 into floats


def _finite_float(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _no_constant(token: str) -> None:
    raise ValueError("NaN and Infinity are not JSON")


def _check_strings_and_depth(text: str) -> None:
    """What json.loads lets through but PHP refuses: \\uD800-style escapes without their
    pair (also in values a duplicate key overwrote) and nesting of 512 or more."""
    for token in _STRING_TOKEN.findall(text):
        if "\\u" in token:
            try:
                json.loads(token).encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("single unpaired UTF-16 surrogate in unicode escape") from None
    depth = deepest = 0
    for char in "".join(_STRING_TOKEN.split(text)):  # the text without its strings
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > DECODE_MAX_NESTING:
        raise ValueError("maximum stack depth exceeded")
