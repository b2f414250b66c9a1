"""Catalog YAML is read as the text typed: YAML 1.1's implicit numbers, booleans and
dates (PyYAML's default) never change a price, a SKU or a title."""

from decimal import Decimal
from pathlib import Path

import pytest

from shopbot.adapters.catalog_yaml import load_yaml
from shopbot.domain.catalog.models import LocalizedText
from shopbot.domain.catalog.spec import parse_catalog
from shopbot.domain.errors import InvalidInput

# What PyYAML's SafeLoader makes of each plain scalar, for the record.
YAML_11_FORMS = [
    "015",  # octal 13
    "0x10",  # 16
    "0o17",
    "0b101",  # 5
    "1:30",  # sexagesimal 90
    "1_000",  # 1000
    "+12",
    ".5",
    "1.5e3",
    "1e3",  # a string in PyYAML, a float in YAML 1.2
    ".inf",
    ".NaN",
    "yes",
    "on",
    "No",
    "y",
    "2024-01-01",  # a date
    "2024-01-01 10:00:00",
    "007",
    "true",
    "False",
]


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path)


@pytest.mark.parametrize("scalar", YAML_11_FORMS)
def test_every_plain_scalar_stays_the_text_typed(tmp_path: Path, scalar: str) -> None:
    assert load(tmp_path, f"key: {scalar}\nlist: [{scalar}]\n{scalar}: v\n") == {
        "key": scalar,
        "list": [scalar],
        scalar: "v",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!!int 015", "015"),
        ("!!float 1e3", "1e3"),
        ("!!bool yes", "yes"),
        ("!!timestamp 2024-01-01", "2024-01-01"),
        ("!!str 10", "10"),
    ],
)
def test_explicit_tags_give_the_text_too(tmp_path: Path, text: str, expected: str) -> None:
    assert load(tmp_path, f"key: {text}\n") == {"key": expected}


def test_null_is_none_and_merge_keys_merge(tmp_path: Path) -> None:
    document = load(
        tmp_path,
        "a: ~\nb: null\nc:\nd: NULL\nbase: &base {kind: manual}\nmerged: {<<: *base, sku: x}\n",
    )

    assert document == {
        "a": None,
        "b": None,
        "c": None,
        "d": None,
        "base": {"kind": "manual"},
        "merged": {"kind": "manual", "sku": "x"},
    }


def catalog_errors(tmp_path: Path, products: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_catalog(load(tmp_path, "products:\n" + products))
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


PRICES_REFUSED = [
    ("015", "'015' starts with a zero"),  # was 13.00
    ("0x10", "'0x10' is not an amount"),  # was 16.00
    ("1:30", "'1:30' is not an amount"),  # was 90.00
    ("1_000", "'1_000' is not an amount"),
    ("0b101", "'0b101' is not an amount"),
    (".5", "'.5' is not an amount"),
    ("1.5e3", "'1.5e3' is not an amount"),
    ("1e3", "'1e3' is not an amount"),
    (".inf", "'.inf' is not an amount"),
    ("yes", "'yes' is not an amount"),
    ("on", "'on' is not an amount"),
    ("true", "'true' is not an amount"),
    ("~", "None is not an amount"),
    ("2024-01-01", "'2024-01-01' is not an amount"),
    ('"1,500"', "'1,500' is ambiguous"),
    ('"01,500"', "'01,500' starts with a zero"),  # was 1.50
    ('"1,5000"', "'1,5000' is ambiguous"),  # was 1.50
    ("!!int 015", "'015' starts with a zero"),
]


def test_prices_are_read_from_the_text_typed(tmp_path: Path) -> None:
    products = "".join(
        f"  - {{sku: p{index}, title: T, price: {price}}}\n"
        for index, (price, _) in enumerate(PRICES_REFUSED)
    )

    errors = catalog_errors(tmp_path, products)

    assert len(errors) == len(PRICES_REFUSED)
    for index, (error, (_, expected)) in enumerate(zip(errors, PRICES_REFUSED, strict=True)):
        assert error.startswith(f"products[{index}].price: {expected}")


def test_prices_people_write_are_read_exactly(tmp_path: Path) -> None:
    spec = parse_catalog(
        load(
            tmp_path,
            "products:\n"
            "  - {sku: a, title: A, price: 9.99}\n"
            "  - {sku: b, title: B, price: +12}\n"
            "  - {sku: c, title: C, price: 1 500}\n"
            "  - {sku: d, title: D, price: '7,5'}\n"
            "  - {sku: e, title: E, price: 0.1}\n",
        )
    )

    assert [p.price for p in spec.products] == [
        Decimal("9.99"),
        Decimal("12.00"),
        Decimal("1500.00"),
        Decimal("7.50"),
        Decimal("0.10"),
    ]


def test_ids_and_titles_that_look_like_numbers_stay_text(tmp_path: Path) -> None:
    spec = parse_catalog(
        load(
            tmp_path,
            "categories:\n"
            "  - slug: 2024-01-01\n"
            "    title: 0x10\n"
            "    products:\n"
            "      - {sku: 007, title: true, price: 1, description: 1:30}\n"
            "      - {sku: 1e3, title: yes, price: 1, description: 015}\n"
            "      - {sku: 1_000, title: {en: 2024-01-01, ru: .5}, price: 1}\n",
        )
    )

    assert spec.categories[0].slug == "2024-01-01"
    assert spec.categories[0].title == LocalizedText(ru="0x10", en="0x10")
    assert [p.sku for p in spec.products] == ["007", "1e3", "1_000"]
    assert [p.title.en for p in spec.products] == ["true", "yes", "2024-01-01"]
    assert spec.products[2].title.ru == ".5"
    assert [p.description.en for p in spec.products[:2]] == ["1:30", "015"]


@pytest.mark.parametrize(("typed", "expected"), [("true", True), ("False", False)])
def test_active_is_true_or_false(tmp_path: Path, typed: str, expected: bool) -> None:
    spec = parse_catalog(
        load(tmp_path, f"products:\n  - {{sku: a, title: A, price: 1, active: {typed}}}\n")
    )

    assert spec.products[0].is_active is expected


@pytest.mark.parametrize("typed", ["yes", "no", "on", "off", "y", "1", "0", "~", "'true '"])
def test_active_in_other_words_is_refused(tmp_path: Path, typed: str) -> None:
    products = f"  - {{sku: a, title: A, price: 1, active: {typed}}}\n"

    assert catalog_errors(tmp_path, products) == ["products[0].active: must be true or false"]
