from dataclasses import dataclass, replace
from typing import Any

from shopbot.domain.catalog.drafts import DraftRefusal, DraftRefused, ProductDraft
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.catalog.spec import CatalogSpec, CategorySpec, parse_catalog
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


async def ensure_sku_free(uow: UnitOfWork, sku: str) -> None:
    """Raises DraftRefused (sku_taken) when a product has `sku` already."""
    if await uow.catalog.get_product(sku) is not None:
        raise DraftRefused(DraftRefusal.SKU_TAKEN, sku=sku)


async def draft_of(uow: UnitOfWork, product: Product) -> ProductDraft:
    """`product` as a draft to edit: every field as it is now."""
    category = ""
    if product.category_id is not None:
        for c in await uow.catalog.list_categories():
            if c.id == product.category_id:
                category = c.slug
    return ProductDraft(
        mode="edit",
        product_id=product.id,
        sku=product.sku,
        kind=product.kind.value,
        title_ru=product.title.ru,
        title_en=product.title.en,
        description_ru=product.description.ru,
        description_en=product.description.en,
        price=f"{product.price:.2f}",
        content=product.content,
        category=category,
        active=product.is_active,
    )


async def save_product(uow: UnitOfWork, draft: ProductDraft) -> Product:
    """Create or update the product of `draft` (caller commits): the whole product is
    validated as a catalog file would be (`parse_catalog`) and written by
    `import_catalog`, exactly like `shopbot catalog import`. Raises DraftRefused
    (category_gone, sku_taken, product_gone) and the catalog's own InvalidInput."""
    raw: dict[str, Any] = {
        "sku": draft.sku,
        "kind": draft.kind,
        "title": {"ru": draft.title_ru, "en": draft.title_en},
        "description": {"ru": draft.description_ru, "en": draft.description_en},
        "price": draft.price,
        "active": draft.active,
    }
    if draft.kind == ProductKind.UNLIMITED.value:
        raw["content"] = draft.content
    spec = parse_catalog({"products": [raw]}).products[0]
    categories: tuple[CategorySpec, ...] = ()
    if draft.category:
        found = [c for c in await uow.catalog.list_categories() if c.slug == draft.category]
        if not found:
            raise DraftRefused(DraftRefusal.CATEGORY_GONE, category=draft.category)
        # The category as it is, so importing the product leaves it unchanged.
        category = found[0]
        categories = (CategorySpec(category.slug, category.title, category.position),)
        spec = replace(spec, category_slug=category.slug)
    existing = await uow.catalog.get_product(draft.sku)
    if draft.mode == "new" and existing is not None:
        raise DraftRefused(DraftRefusal.SKU_TAKEN, sku=draft.sku)
    if draft.mode == "edit" and (existing is None or existing.id != draft.product_id):
        raise DraftRefused(DraftRefusal.PRODUCT_GONE, sku=draft.sku)
    await import_catalog(uow, CatalogSpec(categories=categories, products=(spec,)))
    saved = await uow.catalog.get_product(draft.sku)
    if saved is None:
        raise DraftRefused(DraftRefusal.PRODUCT_GONE, sku=draft.sku)
    return saved


async def toggle_active(uow: UnitOfWork, product: Product) -> Product:
    """Activate an inactive product or deactivate an active one (caller commits),
    through `save_product`'s validation like any other edit."""
    draft = await draft_of(uow, product)
    draft.active = not product.is_active
    return await save_product(uow, draft)
