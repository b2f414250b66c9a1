"""A product as an admin fills it in, field by field, and the rules each answer meets.

New products: sku → kind → titles ru/en → descriptions ru/en → price → content (unlimited
only) → category. Editing skips sku and kind (a kind never changes). Lengths are UTF-16
code units, as Telegram counts them (limits and reasons: catalog.limits).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shopbot.domain.catalog.limits import MAX_CONTENT, MAX_DESCRIPTION, MAX_TITLE, telegram_length
from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.catalog.spec import SKU_PATTERN
from shopbot.domain.errors import DomainError
from shopbot.domain.money import parse_positive_amount

FIELDS = (
    "sku",
    "kind",
    "title_ru",
    "title_en",
    "description_ru",
    "description_en",
    "price",
    "content",
    "category",
)
SKIPPABLE = frozenset({"description_ru", "description_en"})
"""Fields that may stay empty."""


class DraftRefusal(StrEnum):
    """Why an answer or a draft was refused; the bot words each one."""

    SKU = "sku"
    SKU_TAKEN = "sku_taken"
    TITLE_MISSING = "title_missing"
    TITLE_LONG = "title_long"
    DESCRIPTION_LONG = "description_long"
    CONTENT_MISSING = "content_missing"
    CONTENT_LONG = "content_long"
    CATEGORY_GONE = "category_gone"
    PRODUCT_GONE = "product_gone"


class DraftRefused(DomainError):
    """An answer or a draft broke a product rule: `reason`, with `params` (sku, limit,
    category) naming what."""

    def __init__(self, reason: DraftRefusal, **params: Any) -> None:
        super().__init__(f"product draft refused: {reason}")
        self.reason = reason
        self.params = params


@dataclass
class ProductDraft:
    mode: str
    """new | edit"""
    product_id: int | None = None
    sku: str = ""
    kind: str = ""
    title_ru: str = ""
    title_en: str = ""
    description_ru: str = ""
    description_en: str = ""
    price: str = ""
    content: str | None = None
    category: str = ""
    """A category slug; empty: no category."""
    active: bool = True

    def steps(self) -> list[str]:
        """The fields still to ask for, in order: an edit keeps its sku and kind, and only
        an unlimited product has content."""
        skipped = {"sku", "kind"} if self.mode == "edit" else set()
        if self.kind != ProductKind.UNLIMITED.value:
            skipped.add("content")
        return [field for field in FIELDS if field not in skipped]

    def value(self, field: str) -> str:
        return str(getattr(self, field) or "")


def check_field(field: str, text: str) -> str:
    """The answer `text` for `field`, stripped (a price as its two-decimal amount).
    Raises DraftRefused or InvalidAmount (a price)."""
    value = text.strip()
    if field == "sku":
        if not SKU_PATTERN.match(value):
            raise DraftRefused(DraftRefusal.SKU)
    elif field in ("title_ru", "title_en"):
        if not value:
            raise DraftRefused(DraftRefusal.TITLE_MISSING)
        if telegram_length(value) > MAX_TITLE:
            raise DraftRefused(DraftRefusal.TITLE_LONG, limit=MAX_TITLE)
    elif field in SKIPPABLE:
        if telegram_length(value) > MAX_DESCRIPTION:
            raise DraftRefused(DraftRefusal.DESCRIPTION_LONG, limit=MAX_DESCRIPTION)
    elif field == "price":
        value = str(parse_positive_amount(value))
    elif field == "content":
        if not value:
            raise DraftRefused(DraftRefusal.CONTENT_MISSING)
        if telegram_length(value) > MAX_CONTENT:
            raise DraftRefused(DraftRefusal.CONTENT_LONG, limit=MAX_CONTENT)
    return value
