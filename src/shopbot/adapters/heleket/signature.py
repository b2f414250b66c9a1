"""Heleket signatures (SPEC §1.2, §4.3).

sign = md5_hex( base64( SIGNED_BYTES ) + api_key )

Requests: SIGNED_BYTES is the exact HTTP body. Webhooks: SIGNED_BYTES is PHP's
`json_encode($data_without_sign, JSON_UNESCAPED_UNICODE)` of the decoded body (see
`php_json`); as a fallback, the received bytes with the `"sign":"…"` member cut out.
"""

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from shopbot.adapters.heleket.php_json import php_json_decode, php_json_encode

__all__ = [
    "InvalidSignature",
    "php_json_decode",
    "php_json_encode",
    "sign",
    "signed_webhook_body",
    "verify_webhook",
]


class InvalidSignature(Exception):
    """The body is not signed with the given key (or is not a signed JSON object)."""


def sign(data: bytes, api_key: str) -> str:
    return hashlib.md5(base64.b64encode(data) + api_key.encode(), usedforsecurity=False).hexdigest()


def signed_webhook_body(payload: dict[str, Any], api_key: str) -> bytes:
    """The bytes Heleket POSTs: the payload with `sign` appended last, PHP-encoded."""
    data = {key: value for key, value in payload.items() if key != "sign"}
    data["sign"] = sign(php_json_encode(data).encode(), api_key)
    return php_json_encode(data).encode()


def verify_webhook(
    raw: bytes, api_key: str, *, decoded: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The decoded webhook (without `sign`) if it is signed with `api_key`; else raises.

    Accepts when the PHP re-encoding of the other fields is signed (the official SDK
    recipe), otherwise when the received bytes minus the `sign` member are (the Go and
    Python SDKs' raw recipe). Both need the key. Messages never contain the key or body.

    `decoded`: `php_json_decode(raw)`, for a caller that has already decoded the body
    (to pick the key by `type`); it must come from these very bytes, as the raw recipe
    checks `raw`. It is not changed.
    """
    if not api_key.strip():
        raise InvalidSignature("no API key to check the signature with")
    if decoded is None:
        data, problem = _decode(raw)
        if problem is not None:  # raised out here, so the exception holds no piece of the body
            raise InvalidSignature(f"body is not valid JSON: {problem}")
    else:
        data = decoded
    if not isinstance(data, dict):
        raise InvalidSignature("body is not a JSON object")
    given = data.get("sign")
    if not isinstance(given, str):
        raise InvalidSignature("body has no string sign field")
    unsigned = {key: value for key, value in data.items() if key != "sign"}
    if not (
        _signs(php_json_encode(unsigned).encode(), given, api_key)
        or _raw_signs(raw, given, api_key)
    ):
        raise InvalidSignature("sign does not match the body")
    return unsigned


def _signs(signed: bytes, given: str, api_key: str) -> bool:
    return hmac.compare_digest(sign(signed, api_key).encode(), given.encode())


def _raw_signs(raw: bytes, given: str, api_key: str) -> bool:
    stripped = raw_strip_sign(raw.decode())
    return stripped is not None and _signs(stripped.encode(), given, api_key)


def raw_strip_sign(text: str) -> str | None:
    """`text` (a JSON object already validated) with its one top-level `sign` member and
    the comma that joins it cut out, every other character kept as received; None when
    there is no such member or more than one."""
    members: list[tuple[str, int, int]] = []  # key, start of the key, end of the value
    position = _skip_space(text, _skip_space(text, 0) + 1)  # after "{"
    while text[position] != "}":
        key, after_key = _VALUE.raw_decode(text, position)
        value_start = _skip_space(text, _skip_space(text, after_key) + 1)  # after ":"
        _, value_end = _VALUE.raw_decode(text, value_start)
        members.append((key, position, value_end))
        position = _skip_space(text, value_end)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    found = [index for index, member in enumerate(members) if member[0] == "sign"]
    if len(found) != 1:
        return None
    index = found[0]
    _, start, end = members[index]
    if index > 0:
        start = members[index - 1][2]  # from the end of the previous value: its comma goes
    elif len(members) > 1:
        end = members[1][1]  # up to the next key: the comma after `sign` goes
    return text[:start] + text[end:]


_VALUE = json.JSONDecoder(parse_int=str, parse_float=str)  # positions only: no conversion
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    assert match is not None  # "*" always matches
    return match.end()


def _decode(raw: bytes) -> tuple[Any, str | None]:
    """The decoded body, or why it could not be decoded (without quoting it)."""
    try:
        return php_json_decode(raw), None
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"
    except ValueError as exc:
        return None, str(exc)
