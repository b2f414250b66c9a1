from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.orders.models import Order, OrderStatus
from shopbot.persistence.models import OrderRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.types import utcnow


def _order(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        user_id=row.user_id,
        product_id=row.product_id,
        sku=row.sku,
        price=row.price,
        status=OrderStatus(row.status),
        request_key=row.request_key,
        delivery=row.delivery,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        user_id: int,
        product_id: int,
        sku: str,
        price: Decimal,
        status: OrderStatus,
        request_key: str,
    ) -> Order | None:
        now = utcnow()
        order_id = (
            await self._session.execute(
                insert_or_ignore(self._session, OrderRow, conflict_on=["request_key"])
                .values(
                    user_id=user_id,
                    product_id=product_id,
                    sku=sku,
                    price=price,
                    status=status.value,
                    request_key=request_key,
                    created_at=now,
                    updated_at=now,
                )
                .returning(OrderRow.id)
            )
        ).scalar_one_or_none()
        return None if order_id is None else await self.get(order_id)

    async def get(self, order_id: int) -> Order | None:
        if not is_id(order_id):  # no row has it, and SQL would overflow
            return None
        row = await self._session.get(OrderRow, order_id, populate_existing=True)
        return _order(row) if row else None

    async def get_by_request_key(self, request_key: str) -> Order | None:
        row = await self._session.scalar(
            select(OrderRow)
            .where(OrderRow.request_key == request_key)
            .execution_options(populate_existing=True)
        )
        return _order(row) if row else None

    async def set_delivery(self, order_id: int, delivery: str) -> None:
        await self._session.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(delivery=delivery, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def transition(
        self,
        order_id: int,
        *,
        allowed: frozenset[OrderStatus],
        to: OrderStatus,
        note: str | None = None,
    ) -> Order | None:
        values: dict[str, object] = {"status": to.value, "updated_at": utcnow()}
        if note is not None:
            values["delivery"] = note
        changed = await self._session.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id, OrderRow.status.in_([s.value for s in allowed]))
            .values(**values)
            .returning(OrderRow.id)
            .execution_options(synchronize_session=False)
        )
        if changed.scalar_one_or_none() is None:
            return None
        return await self.get(order_id)

    async def claim_announcement(self, order_id: int) -> bool:
        now = utcnow()
        claimed = await self._session.execute(
            update(OrderRow)
            .where(
                OrderRow.id == order_id,
                OrderRow.status == OrderStatus.AWAITING_FULFILMENT.value,
                OrderRow.announced_at.is_(None),
            )
            .values(announced_at=now)
            .returning(OrderRow.id)
            .execution_options(synchronize_session=False)
        )
        return claimed.scalar_one_or_none() is not None

    async def awaiting_fulfilment(self, limit: int) -> list[Order]:
        rows = await self._session.scalars(
            select(OrderRow)
            .where(OrderRow.status == OrderStatus.AWAITING_FULFILMENT.value)
            .order_by(OrderRow.id)
            .limit(limit)
        )
        return [_order(row) for row in rows]

    async def list_for_user(self, user_id: int, limit: int) -> list[Order]:
        rows = await self._session.scalars(
            select(OrderRow)
            .where(OrderRow.user_id == user_id)
            .order_by(OrderRow.id.desc())
            .limit(limit)
        )
        return [_order(row) for row in rows]
