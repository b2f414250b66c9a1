from shopbot.domain.catalog.models import Category, LocalizedText, Product, ProductKind
from shopbot.domain.catalog.ports import CatalogRepository, StockRepository

__all__ = [
    "CatalogRepository",
    "Category",
    "LocalizedText",
    "Product",
    "ProductKind",
    "StockRepository",
]
