from typing import Protocol

from shopbot.domain.catalog.models import Category, Product
from shopbot.domain.catalog.spec import CategorySpec, ProductSpec


class CatalogReader(Protocol):
    """The catalog's reads: what browsing needs (a replica may serve them)."""

    async def get_product(self, sku: str) -> Product | None: ...

    async def get_product_by_id(self, product_id: int) -> Product | None: ...

    async def products_in(
        self, category_id: int | None, *, active_only: bool = True
    ) -> list[Product]: ...

    async def list_categories(self) -> list[Category]: ...

    async def list_products(
        self, *, category_id: int | None = None, active_only: bool = True
    ) -> list[Product]: ...


class CatalogRepository(CatalogReader, Protocol):
    async def upsert_category(self, spec: CategorySpec) -> Category: ...

    async def upsert_product(self, spec: ProductSpec, category_id: int | None) -> Product: ...


class StockReader(Protocol):
    """How many items are left to sell (a replica may serve it: the purchase itself
    reserves on the primary)."""

    async def available(self, product_id: int) -> int: ...


class StockRepository(StockReader, Protocol):
    async def add_items(self, product_id: int, items: list[str]) -> int:
        """Add items; returns how many were added. Raises StockItemsExist with the
        positions of items the product already has (and then nothing is added)."""
        ...

    async def reserve(self, product_id: int, order_id: int) -> str | None:
        """Atomically give one unsold item to the order; None when none is left."""
        ...
