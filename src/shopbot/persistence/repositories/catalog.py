import hashlib

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.catalog.models import Category, LocalizedText, Product, ProductKind
from shopbot.domain.catalog.spec import CategorySpec, ProductSpec
from shopbot.domain.errors import StockItemsExist
from shopbot.domain.ids import is_id
from shopbot.persistence.models import CategoryRow, ProductRow, StockItemRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.types import utcnow


def _category(row: CategoryRow) -> Category:
    return Category(
        id=row.id,
        slug=row.slug,
        title=LocalizedText(ru=row.title_ru, en=row.title_en),
        position=row.position,
    )


def _product(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        sku=row.sku,
        category_id=row.category_id,
        kind=ProductKind(row.kind),
        title=LocalizedText(ru=row.title_ru, en=row.title_en),
        description=LocalizedText(ru=row.description_ru, en=row.description_en),
        price=row.price,
        is_active=row.is_active,
        content=row.content,
    )


class SqlCatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert_category(self, spec: CategorySpec) -> Category:
        values = {
            "title_ru": spec.title.ru,
            "title_en": spec.title.en,
            "position": spec.position,
            "updated_at": utcnow(),
        }
        await self._session.execute(
            insert_or_ignore(self._session, CategoryRow, conflict_on=["slug"]).values(
                slug=spec.slug, created_at=utcnow(), **values
            )
        )
        await self._session.execute(
            update(CategoryRow)
            .where(CategoryRow.slug == spec.slug)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        row = await self._session.scalar(
            select(CategoryRow)
            .where(CategoryRow.slug == spec.slug)
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise RuntimeError(f"category {spec.slug} vanished")
        return _category(row)

    async def upsert_product(self, spec: ProductSpec, category_id: int | None) -> Product:
        values = {
            "category_id": category_id,
            "kind": spec.kind.value,
            "title_ru": spec.title.ru,
            "title_en": spec.title.en,
            "description_ru": spec.description.ru,
            "description_en": spec.description.en,
            "price": spec.price,
            "is_active": spec.is_active,
            "content": spec.content,
            "updated_at": utcnow(),
        }
        await self._session.execute(
            insert_or_ignore(self._session, ProductRow, conflict_on=["sku"]).values(
                sku=spec.sku, created_at=utcnow(), **values
            )
        )
        await self._session.execute(
            update(ProductRow)
            .where(ProductRow.sku == spec.sku)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        product = await self.get_product(spec.sku)
        if product is None:
            raise RuntimeError(f"product {spec.sku} vanished")
        return product

    async def get_product(self, sku: str) -> Product | None:
        row = await self._session.scalar(
            select(ProductRow)
            .where(ProductRow.sku == sku)
            .execution_options(populate_existing=True)
        )
        return _product(row) if row else None

    async def get_product_by_id(self, product_id: int) -> Product | None:
        if not is_id(product_id):  # no row has it, and SQL would overflow
            return None
        row = await self._session.get(ProductRow, product_id, populate_existing=True)
        return _product(row) if row else None

    async def products_in(
        self, category_id: int | None, *, active_only: bool = True
    ) -> list[Product]:
        """Products of a category; None: those without a category."""
        query = select(ProductRow).order_by(ProductRow.id)
        if category_id is None:
            query = query.where(ProductRow.category_id.is_(None))
        else:
            query = query.where(ProductRow.category_id == category_id)
        if active_only:
            query = query.where(ProductRow.is_active.is_(True))
        return [_product(row) for row in await self._session.scalars(query)]

    async def list_categories(self) -> list[Category]:
        rows = await self._session.scalars(
            select(CategoryRow).order_by(CategoryRow.position, CategoryRow.id)
        )
        return [_category(row) for row in rows]

    async def list_products(
        self, *, category_id: int | None = None, active_only: bool = True
    ) -> list[Product]:
        query = select(ProductRow).order_by(ProductRow.id)
        if category_id is not None:
            query = query.where(ProductRow.category_id == category_id)
        if active_only:
            query = query.where(ProductRow.is_active.is_(True))
        return [_product(row) for row in await self._session.scalars(query)]


def content_hash(item: str) -> str:
    return hashlib.sha256(item.encode()).hexdigest()


class SqlStockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_items(self, product_id: int, items: list[str]) -> int:
        positions = {content_hash(item): index for index, item in enumerate(items)}
        hashes = list(positions)
        clashes: list[int] = []
        for start in range(0, len(hashes), 500):
            existing = await self._session.scalars(
                select(StockItemRow.content_hash).where(
                    StockItemRow.product_id == product_id,
                    StockItemRow.content_hash.in_(hashes[start : start + 500]),
                )
            )
            clashes.extend(positions[h] for h in existing)
        if clashes:
            raise StockItemsExist(sorted(clashes))
        now = utcnow()
        # A concurrent upload of the same item fails on the UNIQUE constraint instead.
        await self._session.execute(
            insert(StockItemRow),
            [
                {
                    "product_id": product_id,
                    "content": item,
                    "content_hash": content_hash(item),
                    "created_at": now,
                }
                for item in items
            ],
        )
        return len(items)

    async def available(self, product_id: int) -> int:
        count = await self._session.scalar(
            select(func.count(StockItemRow.id)).where(
                StockItemRow.product_id == product_id, StockItemRow.order_id.is_(None)
            )
        )
        return count or 0

    async def reserve(self, product_id: int, order_id: int) -> str | None:
        candidate = (
            select(StockItemRow.id)
            .where(StockItemRow.product_id == product_id, StockItemRow.order_id.is_(None))
            .order_by(StockItemRow.id)
            .limit(1)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # Racing buyers skip each other's locked rows instead of queueing on one item.
            candidate = candidate.with_for_update(skip_locked=True)
        taken = await self._session.execute(
            update(StockItemRow)
            .where(StockItemRow.id == candidate.scalar_subquery(), StockItemRow.order_id.is_(None))
            .values(order_id=order_id, delivered_at=utcnow())
            .returning(StockItemRow.content)
            .execution_options(synchronize_session=False)
        )
        return taken.scalar_one_or_none()
