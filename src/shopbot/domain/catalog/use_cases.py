from dataclasses import dataclass

from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.catalog.spec import CatalogSpec
from shopbot.domain.catalog.stock import parse_stock_file
from shopbot.domain.errors import InvalidInput, ProductNotFound, StockItemsExist
from shopbot.domain.file_problems import FileRefused, Problem
from shopbot.domain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ImportSummary:
    categories: int
    products: int


async def import_catalog(uow: UnitOfWork, spec: CatalogSpec) -> ImportSummary:
    """Create or update categories (by slug) and products (by SKU). Products absent from
    the file are left as they are; deactivate them with `active: false`.

    Runs inside the caller's unit of work; does not commit."""
    category_ids: dict[str, int] = {}
    for category_spec in spec.categories:
        category = await uow.catalog.upsert_category(category_spec)
        category_ids[category.slug] = category.id
    for product_spec in spec.products:
        existing = await uow.catalog.get_product(product_spec.sku)
        if existing is not None and existing.kind is not product_spec.kind:
            raise InvalidInput(
                f"product {product_spec.sku!r} is {existing.kind}; its kind cannot change "
                f"to {product_spec.kind} (create a new SKU instead)"
            )
        category_id = category_ids.get(product_spec.category_slug or "")
        await uow.catalog.upsert_product(product_spec, category_id)
    return ImportSummary(categories=len(spec.categories), products=len(spec.products))


@dataclass(frozen=True, slots=True)
class StockUpload:
    added: int
    available: int


async def add_stock(uow: UnitOfWork, sku: str, text: str) -> StockUpload:
    """Add the items of stock file `text` (`parse_stock_file`) to product `sku`, all or
    none. Raises ProductNotFound; FileRefused (an InvalidInput) for a product that is not
    a stock product (not_stock_product), a bad file, or items already stored (in_stock,
    one problem per line; never the items: they are secrets).

    Runs inside the caller's unit of work; does not commit."""
    product = await uow.catalog.get_product(sku)
    if product is None:
        raise ProductNotFound(sku)
    if product.kind is not ProductKind.STOCK:
        raise FileRefused(
            f"product {sku!r} is {product.kind}, only stock products take items",
            [Problem("not_stock_product", {"sku": sku, "kind": str(product.kind)})],
        )
    lines = parse_stock_file(text)
    try:
        added = await uow.stock.add_items(product.id, [line.item for line in lines])
    except StockItemsExist as exc:
        # Line numbers, never the items: stock items are secrets.
        stored = [lines[p].number for p in sorted(exc.positions)]
        numbers = ", ".join(str(number) for number in stored[:20])
        raise FileRefused(
            f"{len(exc.positions)} item(s) already in stock for {sku!r} (lines {numbers}); "
            "nothing was added",
            (Problem("in_stock", {"line": number}) for number in stored),
        ) from None
    return StockUpload(added=added, available=await uow.stock.available(product.id))
