"""Heleket signatures (SPEC §1.2, §4.3).

sign = md5_hex( base64( SIGNED_BYTES ) + api_key )

Requests: SIGNED_BYTES is the exact HTTP body. Webhooks: SIGNED_BYTES is PHP's
`json_encode($data_without_sign, JSON_UNESCAPED_UNICODE)` of the decoded body.

NOTE: interim implementation covering common payloads only; being replaced by a full
PHP-compatible encoder with the same public API.
"""

import base64
import hashlib
import hmac
import json
from typing import Any


class InvalidSignature(Exception):
    """The body is not signed with the given key (or is not a signed JSON object)."""


def sign(data: bytes, api_key: str) -> str:
    return hashlib.md5(base64.b64encode(data) + api_key.encode(), usedforsecurity=False).hexdigest()


def php_json_encode(value: Any) -> str:
    """Like PHP `json_encode($value, JSON_UNESCAPED_UNICODE)`."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def php_json_decode(raw: bytes) -> Any:
    """Like PHP `json_decode($raw, true)`: objects become ordered dicts."""
    return json.loads(raw.decode("utf-8"))


def signed_webhook_body(payload: dict[str, Any], api_key: str) -> bytes:
    """The bytes Heleket POSTs: the payload with `sign` appended last, PHP-encoded."""
    data = {k: v for k, v in payload.items() if k != "sign"}
    data["sign"] = sign(php_json_encode(data).encode(), api_key)
    return php_json_encode(data).encode()


def verify_webhook(raw: bytes, api_key: str) -> dict[str, Any]:
    """The decoded webhook (without `sign`) if it is signed with `api_key`; else raises."""
    try:
        data = php_json_decode(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidSignature("body is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sign"), str):
        raise InvalidSignature("body has no sign")
    given = data.pop("sign")
    expected = sign(php_json_encode(data).encode(), api_key)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignature("sign does not match")
    return data
