"""Validation of a catalog description (as loaded from an operator's YAML file).

The whole file is checked before anything is written: every problem is reported with
its location, and a file with any problem changes nothing.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopbot.domain.catalog.limits import MAX_CONTENT, MAX_DESCRIPTION, MAX_TITLE, telegram_length
from shopbot.domain.catalog.models import LANGUAGES, LocalizedText, ProductKind
from shopbot.domain.errors import DomainError, InvalidInput
from shopbot.domain.money import parse_positive_amount

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
__all__ = ["MAX_CONTENT", "MAX_DESCRIPTION", "MAX_TITLE", "parse_catalog"]


@dataclass(frozen=True, slots=True)
class CategorySpec:
    slug: str
    title: LocalizedText
    position: int


@dataclass(frozen=True, slots=True)
class ProductSpec:
    sku: str
    kind: ProductKind
    title: LocalizedText
    description: LocalizedText
    price: Decimal
    is_active: bool
    content: str | None
    category_slug: str | None


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    categories: tuple[CategorySpec, ...]
    products: tuple[ProductSpec, ...]


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def too_long(limit: int) -> str:
    """The refusal of a text over `limit` UTF-16 code units (see catalog.limits)."""
    return f"is longer than {limit} characters (as Telegram counts them: an emoji may count 2)"


def _text(
    value: Any, where: str, errors: _Errors, *, max_len: int, required: bool
) -> LocalizedText:
    if value is None and not required:
        return LocalizedText(ru="", en="")
    if isinstance(value, str):
        value = {"ru": value, "en": value}
    if not isinstance(value, Mapping):
        errors.add(where, "must be a text or a mapping with 'ru' and 'en'")
        return LocalizedText(ru="", en="")
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or (required and not text.strip()):
            errors.add(f"{where}.{language}", "is required text")
            text = ""
        elif telegram_length(text.strip()) > max_len:
            errors.add(f"{where}.{language}", too_long(max_len))
        texts[language] = text.strip()
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        errors.add(where, f"unknown languages {sorted(unknown, key=str)}")
    return LocalizedText(ru=texts["ru"], en=texts["en"])


# YAML 1.2 core schema booleans; YAML 1.1's yes/no/on/off/y/n are refused, not guessed.
_FLAGS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _flag(value: Any) -> bool | None:
    """A bool, or its YAML 1.2 text (the catalog loader keeps scalars as text); None
    for anything else."""
    if isinstance(value, bool):
        return value
    return _FLAGS.get(value) if isinstance(value, str) else None


def _product(raw: Any, where: str, category: str | None, errors: _Errors) -> ProductSpec | None:
    if not isinstance(raw, Mapping):
        errors.add(where, "must be a mapping")
        return None
    known = {"sku", "kind", "title", "description", "price", "active", "content"}
    for key in sorted(set(raw) - known, key=str):
        errors.add(f"{where}.{key}", "unknown field")
    sku = raw.get("sku")
    if not isinstance(sku, str) or not SKU_PATTERN.match(sku):
        errors.add(f"{where}.sku", "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
        sku = ""
    try:
        kind = ProductKind(raw.get("kind", "stock"))
    except ValueError:
        errors.add(f"{where}.kind", f"must be one of {[k.value for k in ProductKind]}")
        kind = ProductKind.STOCK
    try:
        price = parse_positive_amount(raw.get("price"))
    except DomainError as exc:
        errors.add(f"{where}.price", str(exc))
        price = Decimal(0)
    active = _flag(raw.get("active", True))
    if active is None:
        errors.add(f"{where}.active", "must be true or false")
        active = False
    content = raw.get("content")
    if kind is ProductKind.UNLIMITED:
        if not isinstance(content, str) or not content.strip():
            errors.add(f"{where}.content", "is required for unlimited products")
        elif telegram_length(content.strip()) > MAX_CONTENT:
            errors.add(f"{where}.content", too_long(MAX_CONTENT))
    elif content is not None:
        errors.add(f"{where}.content", f"only unlimited products have content, not {kind}")
        content = None
    return ProductSpec(
        sku=sku,
        kind=kind,
        title=_text(raw.get("title"), f"{where}.title", errors, max_len=MAX_TITLE, required=True),
        description=_text(
            raw.get("description"),
            f"{where}.description",
            errors,
            max_len=MAX_DESCRIPTION,
            required=False,
        ),
        price=price,
        is_active=active,
        content=content.strip() if isinstance(content, str) else None,
        category_slug=category,
    )


def parse_catalog(document: Any) -> CatalogSpec:
    """Validate a loaded catalog document; raises InvalidInput listing every problem."""
    errors = _Errors()
    categories: list[CategorySpec] = []
    products: list[ProductSpec] = []
    if not isinstance(document, Mapping):
        raise InvalidInput(
            "catalog: the file must hold a mapping with 'categories' and/or 'products'"
        )
    for key in sorted(set(document) - {"categories", "products"}, key=str):
        errors.add(key, "unknown top-level field")
    raw_categories = document.get("categories") or []
    if not isinstance(raw_categories, list):
        errors.add("categories", "must be a list")
        raw_categories = []
    for index, raw in enumerate(raw_categories):
        where = f"categories[{index}]"
        if not isinstance(raw, Mapping):
            errors.add(where, "must be a mapping")
            continue
        for key in sorted(set(raw) - {"slug", "title", "products"}, key=str):
            errors.add(f"{where}.{key}", "unknown field")
        slug = raw.get("slug")
        if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
            errors.add(f"{where}.slug", "must match [a-z0-9][a-z0-9_-]{0,63}")
            slug = ""
        title = _text(raw.get("title"), f"{where}.title", errors, max_len=MAX_TITLE, required=True)
        categories.append(CategorySpec(slug=slug, title=title, position=index))
        raw_products = raw.get("products") or []
        if not isinstance(raw_products, list):
            errors.add(f"{where}.products", "must be a list")
            continue
        for p_index, raw_product in enumerate(raw_products):
            spec = _product(raw_product, f"{where}.products[{p_index}]", slug, errors)
            if spec:
                products.append(spec)
    raw_products = document.get("products") or []
    if not isinstance(raw_products, list):
        errors.add("products", "must be a list")
        raw_products = []
    for index, raw_product in enumerate(raw_products):
        spec = _product(raw_product, f"products[{index}]", None, errors)
        if spec:
            products.append(spec)
    _check_unique([c.slug for c in categories if c.slug], "category slug", errors)
    _check_unique([p.sku for p in products if p.sku], "sku", errors)
    if not categories and not products and not errors.items:
        errors.add("catalog", "holds no categories and no products")
    if errors.items:
        raise InvalidInput("invalid catalog:\n  " + "\n  ".join(errors.items))
    return CatalogSpec(categories=tuple(categories), products=tuple(products))


def _check_unique(values: list[str], what: str, errors: _Errors) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            errors.add(what, f"{value!r} appears more than once")
        seen.add(value)
