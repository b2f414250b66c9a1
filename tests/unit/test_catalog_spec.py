"""Validation of catalog documents, and exact prices from the YAML loader."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopbot.adapters.catalog_yaml import load_yaml
from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.domain.catalog.spec import MAX_TITLE, CatalogSpec, parse_catalog
from shopbot.domain.errors import InvalidInput

VALID_YAML = """\
categories:
  - slug: games
    title: {ru: Игры, en: Games}
    products:
      - sku: game-key
        kind: stock
        title: {ru: Ключ игры, en: Game key}
        description: {ru: Ключ для Steam, en: A Steam key}
        price: 9.99
      - sku: guide.pdf
        kind: unlimited
        title: Strategy guide
        price: 5
        content: "  https://example.com/guide.pdf  "
  - slug: design
    title: Design
products:
  - sku: LOGO_1
    kind: manual
    title: {ru: Логотип, en: Logo}
    price: "20,50"
    active: false
"""


def errors_of(document: Any) -> list[str]:
    """The problems listed by parse_catalog, one per line, in order."""
    with pytest.raises(InvalidInput) as caught:
        parse_catalog(document)
    header, *lines = str(caught.value).splitlines()
    assert header == "invalid catalog:"
    return [line.strip() for line in lines]


def product(**fields: Any) -> dict[str, Any]:
    return {"sku": "sku-1", "title": "Title", "price": 1, **fields}


def only_product(**fields: Any) -> dict[str, Any]:
    return {"products": [product(**fields)]}


def test_valid_document_with_all_three_kinds(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(VALID_YAML, encoding="utf-8")

    spec = parse_catalog(load_yaml(path))

    assert isinstance(spec, CatalogSpec)
    assert [(c.slug, c.title, c.position) for c in spec.categories] == [
        ("games", LocalizedText(ru="Игры", en="Games"), 0),
        ("design", LocalizedText(ru="Design", en="Design"), 1),
    ]
    by_sku = {p.sku: p for p in spec.products}
    assert list(by_sku) == ["game-key", "guide.pdf", "LOGO_1"]

    key = by_sku["game-key"]
    assert key.kind is ProductKind.STOCK
    assert key.category_slug == "games"
    assert key.title == LocalizedText(ru="Ключ игры", en="Game key")
    assert key.description == LocalizedText(ru="Ключ для Steam", en="A Steam key")
    assert key.price == Decimal("9.99")
    assert str(key.price) == "9.99"
    assert key.is_active is True
    assert key.content is None

    guide = by_sku["guide.pdf"]
    assert guide.kind is ProductKind.UNLIMITED
    assert guide.category_slug == "games"
    assert guide.title == LocalizedText(ru="Strategy guide", en="Strategy guide")
    assert guide.description == LocalizedText(ru="", en="")
    assert guide.price == Decimal("5.00")
    assert guide.content == "https://example.com/guide.pdf"

    logo = by_sku["LOGO_1"]
    assert logo.kind is ProductKind.MANUAL
    assert logo.category_slug is None
    assert logo.price == Decimal("20.50")
    assert logo.is_active is False
    assert logo.content is None


def test_kind_defaults_to_stock() -> None:
    spec = parse_catalog({"products": [{"sku": "a", "title": "A", "price": "3"}]})

    assert spec.products[0].kind is ProductKind.STOCK
    assert spec.categories == ()


def test_categories_without_products_are_valid() -> None:
    spec = parse_catalog({"categories": [{"slug": "empty", "title": "Empty"}]})

    assert [c.slug for c in spec.categories] == ["empty"]
    assert spec.products == ()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (only_product(sku="bad sku!"), "products[0].sku: must match"),
        (only_product(sku="-starts-with-dash"), "products[0].sku: must match"),
        (only_product(sku="x" * 65), "products[0].sku: must match"),
        (only_product(sku=123), "products[0].sku: must match"),
        (only_product(price=-5), "products[0].price: amount must be positive, got -5.00"),
        (only_product(price="-0.01"), "products[0].price: amount must be positive"),
        (only_product(price=0), "products[0].price: amount must be positive, got 0.00"),
        (only_product(price=None), "products[0].price: None is not an amount"),
        (only_product(price="cheap"), "products[0].price: 'cheap' is not an amount"),
        (only_product(price="9.9999"), "products[0].price: '9.9999' has more than two decimal"),
        (only_product(price="1,500"), "products[0].price: '1,500' is ambiguous: write 1500"),
        (only_product(price=9.99), "products[0].price: amount 9.99 must be given as text"),
        (only_product(price=True), "products[0].price: amount True must be given as text"),
        (only_product(kind="digital"), "products[0].kind: must be one of"),
        (only_product(active="yes"), "products[0].active: must be true or false"),
        (only_product(kind="unlimited"), "products[0].content: is required for unlimited"),
        (
            only_product(kind="unlimited", content="   "),
            "products[0].content: is required for unlimited",
        ),
        (
            only_product(content="secret"),
            "products[0].content: only unlimited products have content, not stock",
        ),
        (only_product(colour="red"), "products[0].colour: unknown field"),
        (only_product(title=None), "products[0].title: must be a text or a mapping"),
        (only_product(title=["a"]), "products[0].title: must be a text or a mapping"),
        (only_product(title={"ru": "Товар"}), "products[0].title.en: is required text"),
        (only_product(title={"ru": "  ", "en": "x"}), "products[0].title.ru: is required text"),
        (
            only_product(title={"ru": "a", "en": "b", "de": "c"}),
            "products[0].title: unknown languages ['de']",
        ),
        (
            only_product(title="x" * (MAX_TITLE + 1)),
            f"products[0].title.ru: is longer than {MAX_TITLE} characters",
        ),
        (
            only_product(title="😀" * (MAX_TITLE // 2) + "x"),  # 129 UTF-16 code units
            f"products[0].title.ru: is longer than {MAX_TITLE} characters",
        ),
        (
            only_product(title={"ru": "я" * (MAX_TITLE + 1), "en": "x"}),
            f"products[0].title.ru: is longer than {MAX_TITLE} characters",
        ),
        (
            only_product(kind="unlimited", content="😀" * 10_001),
            "products[0].content: is longer than 20000 characters",
        ),
        (
            only_product(description="x" * 3001),
            "products[0].description.ru: is longer than 3000 characters",
        ),
        ({"products": ["just a string"]}, "products[0]: must be a mapping"),
        ({"products": {"sku": "a"}}, "products: must be a list"),
        ({"categories": "games"}, "categories: must be a list"),
        ({"categories": ["games"]}, "categories[0]: must be a mapping"),
        ({"categories": [{"slug": "Games", "title": "G"}]}, "categories[0].slug: must match"),
        ({"categories": [{"title": "G"}]}, "categories[0].slug: must match"),
        ({"categories": [{"slug": "g"}]}, "categories[0].title: must be a text or a mapping"),
        (
            {"categories": [{"slug": "g", "title": "G", "icon": "x"}]},
            "categories[0].icon: unknown field",
        ),
        (
            {"categories": [{"slug": "g", "title": "G", "products": "x"}]},
            "categories[0].products: must be a list",
        ),
        (
            {
                "categories": [
                    {"slug": "a", "title": "A"},
                    {"slug": "b", "title": "B", "products": [product(price=-1)]},
                ]
            },
            "categories[1].products[0].price: amount must be positive",
        ),
        ({"shop": "x", "products": [product()]}, "shop: unknown top-level field"),
        ({}, "catalog: holds no categories and no products"),
        ({"categories": [], "products": []}, "catalog: holds no categories and no products"),
    ],
)
def test_each_error_is_reported_with_its_location(document: Any, expected: str) -> None:
    errors = errors_of(document)

    assert any(line.startswith(expected) for line in errors), errors


@pytest.mark.parametrize("document", [None, [], ["products"], "products: []", 42])
def test_a_document_that_is_not_a_mapping_is_refused(document: Any) -> None:
    with pytest.raises(InvalidInput, match="must hold a mapping"):
        parse_catalog(document)


def test_every_error_is_reported_at_once() -> None:
    document = {
        "categories": [
            {
                "slug": "Bad Slug",
                "title": "Cat",
                "products": [product(sku="in-cat", price="-1")],
            }
        ],
        "products": [
            product(sku="bad sku"),
            product(sku="ok-1", kind="digital"),
            product(sku="ok-2", price="1.0001", active="no"),
        ],
    }

    errors = errors_of(document)

    assert errors == [
        "categories[0].slug: must match [a-z0-9][a-z0-9_-]{0,63}",
        "categories[0].products[0].price: amount must be positive, got -1.00",
        "products[0].sku: must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
        "products[1].kind: must be one of ['stock', 'unlimited', 'manual']",
        "products[2].price: '1.0001' has more than two decimal places",
        "products[2].active: must be true or false",
    ]


def test_duplicate_sku_is_refused_across_categories_and_top_level() -> None:
    document = {
        "categories": [{"slug": "games", "title": "Games", "products": [product(sku="dup")]}],
        "products": [product(sku="dup"), product(sku="unique")],
    }

    assert errors_of(document) == ["sku: 'dup' appears more than once"]


def test_duplicate_category_slug_is_refused() -> None:
    document = {"categories": [{"slug": "g", "title": "A"}, {"slug": "g", "title": "B"}]}

    assert errors_of(document) == ["category slug: 'g' appears more than once"]


def test_negative_price_is_refused() -> None:
    assert errors_of(only_product(price="-9.99")) == [
        "products[0].price: amount must be positive, got -9.99"
    ]


def test_yaml_loader_keeps_numbers_as_the_text_typed(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("a: 9.99\nb: 0.1\nc: 1_000.50\nd: 10\ne: '9.99'\n", encoding="utf-8")

    # Text, read by parse_typed_amount later: never a binary float, never 1000.50.
    assert load_yaml(path) == {"a": "9.99", "b": "0.1", "c": "1_000.50", "d": "10", "e": "9.99"}


def test_yaml_price_flows_into_the_spec_exactly(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("products:\n  - sku: a\n    title: A\n    price: 9.99\n", encoding="utf-8")

    spec = parse_catalog(load_yaml(path))

    assert spec.products[0].price == Decimal("9.99")
    assert str(spec.products[0].price) == "9.99"


def test_yaml_price_with_three_decimals_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("products:\n  - sku: a\n    title: A\n    price: 9.999\n", encoding="utf-8")

    assert errors_of(load_yaml(path)) == [
        "products[0].price: '9.999' is ambiguous: write 1500, 1 500, 1,500.00, 1.500,00 or 7.50"
    ]


def test_malformed_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("products: [\n  - sku: a\n", encoding="utf-8")

    with pytest.raises(InvalidInput, match="is not valid YAML"):
        load_yaml(path)


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_yaml(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x80\x81\x00 price: 1")
    with pytest.raises(InvalidInput, match="is not UTF-8 text: undecodable byte at line 1"):
        load_yaml(binary)


def test_yaml_loader_is_safe(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("x: !!python/object/apply:os.system ['true']\n", encoding="utf-8")

    with pytest.raises(InvalidInput, match="is not valid YAML"):
        load_yaml(path)


@pytest.mark.parametrize("price", [".inf", "-.inf", ".nan", "190:20:30.15"])
def test_non_finite_yaml_numbers_are_refused(tmp_path: Path, price: str) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(f"products:\n  - sku: a\n    price: {price}\n    title: A\n")
    assert errors_of(load_yaml(path)) == [
        f"products[0].price: {price!r} is not an amount: write 1500, 1 500, 1,500.00, "
        "1.500,00 or 7.50"
    ]


def test_unknown_keys_of_mixed_types_are_reported() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_catalog(
            {1: 2, "x": 3, "products": [{"sku": "a", "price": "1", "title": "A", 5: 1, "zz": 2}]}
        )
    assert "1: unknown top-level field" in str(error.value)
    assert "products[0].zz: unknown field" in str(error.value)
