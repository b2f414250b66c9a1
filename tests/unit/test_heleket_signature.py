"""Heleket signatures against the public vectors made by PHP 8.2 (SPEC §1.2, §4.3)."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shopbot.adapters.heleket.signature import (
    InvalidSignature,
    php_json_decode,
    php_json_encode,
    raw_strip_sign,
    sign,
    signed_webhook_body,
    verify_webhook,
)
from tests.heleket_vectors import REQUEST_CASES, WEBHOOK_CASES

REQUESTS = REQUEST_CASES
WEBHOOKS = WEBHOOK_CASES
ALTERNATIVES = [(case, alt) for case in WEBHOOKS for alt in case["alt_bodies"]]
NEGATIVES = [(case, bad) for case in WEBHOOKS for bad in case["negative"]]
KEY = "test-payment-key-Zq8v"


def webhook(data: dict[str, Any], key: str = KEY) -> bytes:
    return signed_webhook_body(data, key)


# --- public vectors -----------------------------------------------------------------------


@pytest.mark.parametrize("case", REQUESTS, ids=[case["id"] for case in REQUESTS])
def test_request_vector(case: dict[str, Any]) -> None:
    assert sign(case["body"].encode(), case["api_key"]) == case["expected_sign"]
    assert case["expected_headers"]["sign"] == case["expected_sign"]
    if "params" in case and case["body"]:
        assert php_json_encode(case["params"]) == case["body"]


@pytest.mark.parametrize("case", WEBHOOKS, ids=[case["id"] for case in WEBHOOKS])
def test_webhook_vector(case: dict[str, Any]) -> None:
    body = case["body"].encode()
    assert case["valid"] is True

    payload = verify_webhook(body, case["api_key"])

    assert "sign" not in payload
    assert php_json_encode(payload) == case["signed_string"]
    assert sign(case["signed_string"].encode(), case["api_key"]) == case["expected_sign"]
    assert case["sign_position"] == "last"
    assert signed_webhook_body(payload, case["api_key"]) == body


@pytest.mark.parametrize(
    ("case", "alt"),
    ALTERNATIVES,
    ids=[f"{case['id']}-{alt['encoding']}" for case, alt in ALTERNATIVES],
)
def test_webhook_vector_alternative_body(case: dict[str, Any], alt: dict[str, Any]) -> None:
    assert alt["valid"] is True
    payload = verify_webhook(alt["body"].encode(), case["api_key"])
    assert php_json_encode(payload) == case["signed_string"]
    # The raw fallback alone accepts exactly the bodies the vectors say it does.
    stripped = raw_strip_sign(alt["body"])
    raw_sign = None if stripped is None else sign(stripped.encode(), case["api_key"])
    assert (raw_sign == case["expected_sign"]) is alt["raw_strip_also_valid"]


@pytest.mark.parametrize(
    ("case", "bad"),
    NEGATIVES,
    ids=[f"{case['id']}-negative-{case['negative'].index(bad)}" for case, bad in NEGATIVES],
)
def test_webhook_vector_negative(case: dict[str, Any], bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_webhook(bad["body"].encode(), bad["api_key"])
    assert bad["api_key"] not in str(caught.value)
    assert case["signed_string"] not in str(caught.value)


def _verdict(verify: Callable[[], dict[str, Any]]) -> dict[str, Any] | str:
    try:
        return verify()
    except InvalidSignature as refusal:
        return f"refused: {refusal}"


VECTOR_BODIES = [
    (f"{case['id']}-{index}", body, key)
    for case in WEBHOOKS
    for index, (body, key) in enumerate(
        [
            (case["body"], case["api_key"]),
            (case["body"], case["api_key"][:-1] + "!"),
            *[(alt["body"], case["api_key"]) for alt in case["alt_bodies"]],
            *[(bad["body"], bad["api_key"]) for bad in case["negative"]],
        ]
    )
]


@pytest.mark.parametrize(
    ("body", "key"),
    [(body, key) for _, body, key in VECTOR_BODIES],
    ids=[name for name, _, _ in VECTOR_BODIES],
)
def test_an_already_decoded_body_gets_the_same_verdict(body: str, key: str) -> None:
    """The webhook route decodes the body once, to pick the key, and passes it on."""
    raw = body.encode()
    # Every vector body is a JSON object: a body that is not is answered 400 before any
    # verification, so it would have no verdict to compare (and no test may skip).
    decoded = php_json_decode(raw)
    assert isinstance(decoded, dict)
    before = copy.deepcopy(decoded)

    given = _verdict(lambda: verify_webhook(raw, key, decoded=decoded))

    assert given == _verdict(lambda: verify_webhook(raw, key))
    assert decoded == before


@pytest.mark.parametrize("case", WEBHOOKS, ids=[case["id"] for case in WEBHOOKS])
def test_webhook_vector_with_a_wrong_key(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_webhook(case["body"].encode(), case["api_key"][:-1] + "!")


@pytest.mark.parametrize("key", ["", " ", "\t\n"])
@pytest.mark.parametrize("case", WEBHOOKS, ids=[case["id"] for case in WEBHOOKS])
def test_an_unset_key_never_verifies(case: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidSignature, match="no API key"):
        verify_webhook(case["body"].encode(), key)
    # Not even a body signed with the empty key itself.
    with pytest.raises(InvalidSignature, match="no API key"):
        verify_webhook(webhook({"status": "paid"}, key), key)


# --- round trips and the raw fallback ------------------------------------------------------


def test_signed_webhook_body_round_trip_puts_sign_last() -> None:
    data = {
        "sign": "stale",
        "status": "paid",
        "url": "https://x/y",
        "note": "Заказ\u2028",
        "n": 1.0,
    }
    body = webhook(data)

    assert body.startswith(b'{"status":"paid","url":"https:\\/\\/x\\/y","note":"')
    signed = body[: body.rindex(b',"sign"')] + b"}"
    assert signed == php_json_encode({k: v for k, v in data.items() if k != "sign"}).encode()
    assert body.endswith(b'"n":1,"sign":"' + sign(signed, KEY).encode() + b'"}')
    assert verify_webhook(body, KEY) == {k: v for k, v in data.items() if k != "sign"}


def test_raw_fallback_accepts_bytes_php_would_re_encode_differently() -> None:
    # Signed over the raw bytes: `{}` (PHP re-encodes it as `[]`), \u escapes, 1.0, spaces.
    signed = '{"a": {}, "b": "\\u0416/", "c": 1.0}'
    for raw in (
        signed[:-1] + ',"sign":"' + sign(signed.encode(), KEY) + '"}',
        '{"sign":"' + sign(signed.encode(), KEY) + '",' + signed[1:],
        '{"a": {},"sign":"' + sign(signed.encode(), KEY) + '", "b": "\\u0416/", "c": 1.0}',
    ):
        assert verify_webhook(raw.encode(), KEY) == {"a": [], "b": "Ж/", "c": 1.0}
        with pytest.raises(InvalidSignature):
            verify_webhook(raw.encode(), KEY + "x")


def test_raw_strip_cuts_exactly_one_top_level_sign_member() -> None:
    assert raw_strip_sign('{"a":1,"sign":"s"}') == '{"a":1}'
    assert raw_strip_sign('{"sign":"s","a":1}') == '{"a":1}'
    assert raw_strip_sign('{"a":1,"sign":"s","b":{"sign":"t"}}') == '{"a":1,"b":{"sign":"t"}}'
    assert raw_strip_sign('{ "sign" : "s" }') == "{  }"
    assert raw_strip_sign('{"a":"\\"sign\\":\\"s\\""}') is None
    assert raw_strip_sign('{"b":{"sign":"t"}}') is None
    assert raw_strip_sign('{"sign":"s","a":1,"sign":"t"}') is None
    assert raw_strip_sign("{}") is None


def test_only_sign_left_is_signed_as_an_empty_php_array() -> None:
    assert webhook({}) == b'{"sign":"' + sign(b"[]", KEY).encode() + b'"}'
    assert verify_webhook(webhook({}), KEY) == {}


def test_list_like_payload_is_signed_as_php_would() -> None:
    body = webhook({"0": "a", "1": "b"})
    assert body == b'{"0":"a","1":"b","sign":"' + sign(b'["a","b"]', KEY).encode() + b'"}'
    assert verify_webhook(body, KEY) == {"0": "a", "1": "b"}


def test_duplicate_sign_uses_the_last_value_like_php() -> None:
    good = webhook({"status": "paid"})
    doubled = good.replace(b'{"status"', b'{"sign":"0000","status"')
    assert verify_webhook(doubled, KEY) == {"status": "paid"}
    reversed_order = good[:-1] + b',"sign":"0000"}'
    with pytest.raises(InvalidSignature):
        verify_webhook(reversed_order, KEY)


# --- malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not valid JSON"),
        (b'{"a":NaN,"sign":"x"}', "not valid JSON"),
        (b'{"a":Infinity,"sign":"x"}', "not valid JSON"),
        (b'{"a":"\\ud800","sign":"x"}', "not valid JSON"),
        (b"not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'["sign"]', "not a JSON object"),
        (b'"sign"', "not a JSON object"),
        (b"{}", "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"status":"paid"}', "no string sign"),
        (b'{"status":"paid","sign":null}', "no string sign"),
        (b'{"status":"paid","sign":123}', "no string sign"),
        (b'{"status":"paid","sign":["x"]}', "no string sign"),
        (b'{"status":"paid","sign":""}', "does not match"),
        (b'{"status":"paid","sign":"\\u00e9"}', "does not match"),
    ],
)
def test_malformed_bodies_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        verify_webhook(raw, KEY)


def test_a_valid_sign_over_a_body_with_nan_is_still_refused() -> None:
    signed = b'{"a":NaN}'
    raw = b'{"a":NaN,"sign":"' + sign(signed, KEY).encode() + b'"}'
    with pytest.raises(InvalidSignature, match="not valid JSON"):
        verify_webhook(raw, KEY)


def test_messages_never_contain_the_key_or_the_body() -> None:
    secret_note = "secret-note-7731"
    body = webhook({"note": secret_note, "status": "paid"})
    for raw, key in (
        (body, "wrong-" + KEY),
        (body.replace(b"paid", b"fail"), KEY),
        (body + b"x", KEY),
        (body.replace(b"secret", b"\xffsecret"), KEY),
    ):
        with pytest.raises(InvalidSignature) as caught:
            verify_webhook(raw, key)
        text = str(caught.value) + repr(caught.value.__cause__) + repr(caught.value.__context__)
        assert KEY not in text
        assert secret_note not in text
