"""Differential test: `php_json_encode(php_json_decode(doc))` against the real PHP runtime's
`json_encode(json_decode($doc, true), JSON_UNESCAPED_UNICODE)`.

Hypothesis writes random JSON documents (unicode incl. U+2028/U+2029, slashes, control
characters; integers beyond int64; tiny, huge, integral and negative-zero floats written in
several notations; nested, empty and "0".."n-1"-keyed objects) in several serialisations.
Each example is one batch: one `php` process reads one document per line and answers one
base64 line per document. `php` must be installed (`apt-get install php-cli`;
scripts/ensure-services.sh does it): without it the test fails, it never skips.
"""

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopbot.adapters.heleket.php_json import php_json_decode, php_json_encode

BATCHES = 8
DOCS_PER_BATCH = 50

PHP_LOOP = r"""
while (($line = fgets(STDIN)) !== false) {
    $value = json_decode(rtrim($line, "\n"), true);
    if (json_last_error() !== JSON_ERROR_NONE) {
        echo "!decode ", json_last_error_msg(), "\n";
        continue;
    }
    $out = json_encode($value, JSON_UNESCAPED_UNICODE);
    echo $out === false ? "!encode " . json_last_error_msg() : base64_encode($out), "\n";
}
"""


@pytest.fixture(scope="module")
def php() -> str:
    path = shutil.which("php")
    if path is None:
        pytest.fail("php is not installed: apt-get install php-cli (see ensure-services.sh)")
    return path


def php_round_trip(php: str, docs: list[str]) -> list[str]:
    stdin = "".join(doc + "\n" for doc in docs).encode("utf-8")
    done = subprocess.run(
        [php, "-d", "serialize_precision=-1", "-r", PHP_LOOP],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.decode("ascii").splitlines()
    assert len(lines) == len(docs), done.stderr
    return [line if line.startswith("!") else base64.b64decode(line).decode() for line in lines]


def python_round_trip(doc: str) -> str:
    try:
        return php_json_encode(php_json_decode(doc.encode("utf-8")))
    except ValueError as exc:
        return f"!error {exc}"


# --- documents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A number token written as is, e.g. `1.50E+2`, `-0.0`, `12345678901234567890`."""

    token: str


@dataclass(frozen=True)
class Style:
    ensure_ascii: bool
    escape_slashes: bool
    spaced: bool


def dump(value: Any, style: Style) -> str:
    comma, colon = (", ", ": ") if style.spaced else (",", ":")
    if isinstance(value, Number):
        return value.token
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=style.ensure_ascii)
        return text.replace("/", "\\/") if style.escape_slashes else text
    if isinstance(value, list):
        return "[" + comma.join(dump(item, style) for item in value) + "]"
    if isinstance(value, dict):
        members = (dump(key, style) + colon + dump(item, style) for key, item in value.items())
        return "{" + comma.join(members) + "}"
    return json.dumps(value)


SPECIAL = "/\\\"\u2028\u2029\x00\x01\x08\x0c\x1f\x7f\n\r\t<>&'é€𝄞🛒Ж\ufeff\uffff"
texts = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.text(st.characters(codec="utf-8"), max_size=3)),
    max_size=6,
).map("".join)
ints = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**19, 10**25, 0]),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(float.__floor__).map(float),
    st.sampled_from([-0.0, 0.0, 1e-5, 1e-4, 0.0001, 1e16, 1e17, 1.5e-7, 5e-324, 0.1 + 0.2]),
)
tokens = st.builds(
    lambda sign, whole, frac, exp: Number(f"{sign}{whole}{frac}{exp}"),
    st.sampled_from(["", "-"]),
    st.sampled_from(["0", "1", "15", "123456789012345678901234"]),
    st.sampled_from(["", ".0", ".50", ".000001"]),
    st.sampled_from(["", "e5", "E+2", "e-7", "e-300", "E17", "e0"]),
)
scalars = st.one_of(st.none(), st.booleans(), texts, ints, floats, tokens)
keys = st.one_of(texts, st.sampled_from(["0", "1", "00", "-0", "-1", "9223372036854775808"]))


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(keys, children, max_size=5),
        st.lists(children, max_size=4).map(lambda items: {str(i): v for i, v in enumerate(items)}),
        st.just({}),
    )


values = st.recursive(scalars, containers, max_leaves=25)
styles = st.builds(Style, st.booleans(), st.booleans(), st.booleans())
documents = st.builds(dump, values, styles)


@settings(
    max_examples=BATCHES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(documents, min_size=DOCS_PER_BATCH, max_size=DOCS_PER_BATCH))
def test_php_json_matches_real_php(php: str, docs: list[str]) -> None:
    expected = php_round_trip(php, docs)
    for doc, php_says in zip(docs, expected, strict=True):
        ours = python_round_trip(doc)
        if php_says.startswith("!"):
            assert ours.startswith("!error"), (doc, php_says, ours)
        else:
            assert ours == php_says, doc


def test_edge_documents_match_real_php(php: str) -> None:
    """Fixed documents for the rules random data rarely hits."""
    docs = [
        '{"0":"a","1":"b"}',
        '{"1":"a","0":"b"}',
        '{"0":1,"0":2}',
        '{"a":1,"b":2,"a":3}',
        "{}",
        '[{}, {"x": {}}]',
        '{"a\\/b":"c/d\\u2028\\u2029\\u001f\\u007f<>&\'"}',
        "[9223372036854775807,9223372036854775808,-9223372036854775808,-9223372036854775809]",
        "[-0,-0.0,0.0,1E2,1e16,1e17,1.0e-5,0.0001,1e400]",
        "[1.7976931348623157e308,5e-324,2.2250738585072014e-308,123456789012345678.0]",
        '"\\ud83d\\uded2 \\u0416"',
        '"\\ud800"',
        '{"a":"\\udc00","a":1}',
        "NaN",
        "[Infinity]",
        "\ufeff{}",
        "[1,]",
        " \t[ 1 , 2 ]\r ",
        "[" * 511 + "]" * 511,
        "[" * 512 + "]" * 512,
        '{"k":' + "[" * 512 + "]" * 512 + ',"k":1}',
        '"\\u0000\\"\\\\\\/\\b\\f\\n\\r\\t"',
        "true",
        "null",
        "",
    ]
    for doc, php_says in zip(docs, php_round_trip(php, docs), strict=True):
        ours = python_round_trip(doc)
        if php_says.startswith("!"):
            assert ours.startswith("!error"), (doc, php_says, ours)
        else:
            assert ours == php_says, doc
