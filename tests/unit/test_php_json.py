"""PHP-compatible JSON: the 16 byte rules of SPEC §4.3, each with the literal output of
PHP 8.2 `json_encode($v, JSON_UNESCAPED_UNICODE)`, and `json_decode($raw, true)`."""

from decimal import Decimal
from typing import Any

import pytest

from shopbot.adapters.heleket.php_json import php_float, php_json_decode, php_json_encode


def round_trip(raw: str) -> str:
    return php_json_encode(php_json_decode(raw.encode()))


# --- encoder: the 16 rules ----------------------------------------------------------------


def test_rule_01_separators_without_spaces() -> None:
    assert php_json_encode({"a": 1, "b": [1, 2, {"c": None}]}) == '{"a":1,"b":[1,2,{"c":null}]}'
    assert round_trip('{ "a" : 1 ,\n "b" : [ 1 , 2 ] }') == '{"a":1,"b":[1,2]}'


def test_rule_02_key_order_is_insertion_order() -> None:
    assert php_json_encode({"b": 1, "a": 2, "c": 3}) == '{"b":1,"a":2,"c":3}'
    assert list(php_json_decode(b'{"z":1,"a":2,"m":3}')) == ["z", "a", "m"]


def test_rule_03_slash_is_escaped_in_values_and_keys() -> None:
    assert php_json_encode({"a/b": "https://t.me/x"}) == '{"a\\/b":"https:\\/\\/t.me\\/x"}'
    assert round_trip('{"a\\/b":"c/d"}') == '{"a\\/b":"c\\/d"}'


def test_rule_04_non_ascii_stays_raw_utf8() -> None:
    assert php_json_encode("Заказ №42 — 🛒 é") == '"Заказ №42 — 🛒 é"'
    assert round_trip('"\\u0417\\u0430\\u043a\\u0430\\u0437 \\ud83d\\uded2"') == '"Заказ 🛒"'


def test_rule_05_line_and_paragraph_separators_are_escaped() -> None:
    assert php_json_encode("a\u2028b\u2029c") == '"a\\u2028b\\u2029c"'
    assert php_json_encode({"\u2028": 1}) == '{"\\u2028":1}'


def test_rule_06_short_escapes() -> None:
    assert php_json_encode('"\\\b\f\n\r\t') == '"\\"\\\\\\b\\f\\n\\r\\t"'


def test_rule_07_other_c0_controls_as_lowercase_u00xx_and_del_raw() -> None:
    assert (
        php_json_encode("\x00\x01\x0b\x1a\x1f\x7f") == '"\\u0000\\u0001\\u000b\\u001a\\u001f\x7f"'
    )


def test_rule_08_html_characters_and_apostrophe_raw() -> None:
    assert php_json_encode("<a href='x'>&amp;</a>") == "\"<a href='x'>&amp;<\\/a>\""


def test_rule_09_integral_floats_have_no_fraction() -> None:
    assert php_json_encode([15.0, -3.0, 0.0, -0.0, 1e15]) == "[15,-3,0,-0,1000000000000000]"
    assert round_trip("[15.0,1.50E1,-0.0,-0,0e5]") == "[15,15,-0,0,0]"


def test_rule_10_shortest_round_trip_digits() -> None:
    assert php_json_encode([0.1, 0.1 + 0.2, 0.5, -2.75, 1 / 3]) == (
        "[0.1,0.30000000000000004,0.5,-2.75,0.3333333333333333]"
    )


@pytest.mark.parametrize(
    ("number", "php"),
    [
        (1e25, "1.0e+25"),
        (2.5e-5, "2.5e-5"),
        (1e-7, "1.0e-7"),
        (1e-5, "1.0e-5"),
        (0.0001, "0.0001"),
        (0.00012345, "0.00012345"),
        (1e16, "10000000000000000"),
        (1.2345e16, "12345000000000000"),
        (1e17, "1.0e+17"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (-1.5e300, "-1.5e+300"),
        (5e-324, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_rule_11_exponent_form_below_1e_minus_4_and_from_1e17(number: float, php: str) -> None:
    assert php_float(number) == php
    assert php_json_encode(number) == php


def test_rule_12_integers_are_64_bit_and_larger_ones_become_floats() -> None:
    assert php_json_encode([2**63 - 1, -(2**63)]) == "[9223372036854775807,-9223372036854775808]"
    assert php_json_decode(b"12345678901234567890") == 1.2345678901234567e19
    assert round_trip("12345678901234567890") == "1.2345678901234567e+19"
    assert round_trip("[9223372036854775807,9223372036854775808,-9223372036854775809]") == (
        "[9223372036854775807,9.223372036854776e+18,-9.223372036854776e+18]"
    )
    assert php_json_encode(2**64) == "1.8446744073709552e+19"


def test_rule_13_empty_object_becomes_empty_array() -> None:
    assert php_json_decode(b"{}") == []
    assert round_trip('{"a":{},"b":[],"c":[{}]}') == '{"a":[],"b":[],"c":[[]]}'
    assert php_json_encode({}) == "[]"


def test_rule_14_object_keyed_0_to_n_minus_1_in_order_becomes_a_list() -> None:
    assert php_json_decode(b'{"0":"a","1":"b"}') == ["a", "b"]
    assert round_trip('{"0":"a","1":{"0":true}}') == '["a",[true]]'
    assert php_json_encode({0: "a", "1": "b"}) == '["a","b"]'
    # Anything else stays an object: other order, gaps, non-canonical or negative keys.
    for raw in ('{"1":"a","0":"b"}', '{"0":"a","2":"b"}', '{"00":"a"}', '{"-0":1}', '{"1":1}'):
        assert round_trip(raw) == raw
    assert php_json_encode({"0": 1, "sign": "x"}) == '{"0":1,"sign":"x"}'


def test_rule_15_duplicate_keys_last_value_first_position() -> None:
    decoded = php_json_decode(b'{"a":1,"b":2,"a":3}')
    assert decoded == {"a": 3, "b": 2}
    assert list(decoded) == ["a", "b"]
    assert round_trip('{"a":1,"b":2,"a":3}') == '{"a":3,"b":2}'
    assert round_trip('{"0":1,"0":2}') == "[2]"


def test_rule_16_booleans_and_null() -> None:
    assert php_json_encode([True, False, None]) == "[true,false,null]"
    assert php_json_encode({"t": True, "f": False, "n": None}) == '{"t":true,"f":false,"n":null}'


def test_empty_string_key_and_nested_structures() -> None:
    assert php_json_encode({"": {"x": [[], {"y": ""}]}}) == '{"":{"x":[[],{"y":""}]}}'
    assert php_json_encode((1, "a")) == '[1,"a"]'


# --- encoder: what PHP refuses -------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), [float("-inf")], "\ud800", {"\udc00": 1}]
)
def test_encode_refuses_what_php_cannot_encode(value: Any) -> None:
    with pytest.raises(ValueError):
        php_json_encode(value)


def test_encode_depth_limit_is_512() -> None:
    value: Any = 1
    for _ in range(512):
        value = [value]
    assert php_json_encode(value) == "[" * 512 + "1" + "]" * 512
    with pytest.raises(ValueError):
        php_json_encode([value])


@pytest.mark.parametrize("value", [Decimal("1.5"), b"bytes", {True: 1}, {1.5: 1}, object()])
def test_encode_refuses_values_php_has_no_form_for(value: Any) -> None:
    with pytest.raises(TypeError):
        php_json_encode(value)


# --- decoder ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"NaN",
        b"[Infinity]",
        b'{"a":-Infinity}',
        b"\xff",
        b'"\xed\xa0\x80"',  # a UTF-8 encoded surrogate
        b"\xef\xbb\xbf{}",  # BOM
        b'"\\ud800"',
        b'"\\udc00\\ud800"',
        b'{"a":"\\ud83d","a":1}',  # even when a later duplicate overwrites it
        b"1e400",
        b"-1" + b"0" * 400,
        b"[1,]",
        b"{'a':1}",
        b'"a\nb"',  # raw control character in a string
        b"01",
        b"",
        b"  ",
        b"[1] [2]",
    ],
)
def test_decode_refuses_what_php_refuses(raw: bytes) -> None:
    with pytest.raises(ValueError):
        php_json_decode(raw)


def test_decode_depth_limit_is_511() -> None:
    assert round_trip("[" * 511 + "]" * 511) == "[" * 511 + "]" * 511
    for raw in ("[" * 512 + "]" * 512, '{"k":' + "[" * 512 + "]" * 512 + ',"k":1}', "[" * 100_000):
        with pytest.raises(ValueError):
            php_json_decode(raw.encode())


def test_decode_keeps_brackets_and_escapes_inside_strings_out_of_the_checks() -> None:
    raw = '["' + "[" * 600 + '","\\\\ud800","\\ud83d\\uded2"]'
    assert round_trip(raw) == '["' + "[" * 600 + '","\\\\ud800","🛒"]'


def test_decode_scalars_and_whitespace() -> None:
    assert php_json_decode(b' \t\r\n"x" ') == "x"
    assert php_json_decode(b"-0") == 0
    assert php_json_decode(b"1E2") == 100.0
    assert php_json_decode(b"null") is None
