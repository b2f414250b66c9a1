from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

LANGUAGES = ("ru", "en")


class ProductKind(StrEnum):
    STOCK = "stock"
    """Each unit is a secret item (a key, a code) delivered exactly once."""
    UNLIMITED = "unlimited"
    """The same content for every buyer."""
    MANUAL = "manual"
    """An admin fulfils the order by hand."""


@dataclass(frozen=True, slots=True)
class LocalizedText:
    ru: str
    en: str

    def get(self, language: str) -> str:
        return self.ru if language == "ru" else self.en


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    slug: str
    title: LocalizedText
    position: int


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    category_id: int | None
    kind: ProductKind
    title: LocalizedText
    description: LocalizedText
    price: Decimal
    is_active: bool
    content: str | None
    """What every buyer of an unlimited product receives; None for other kinds."""
