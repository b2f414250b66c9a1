from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.payments.models import StarPayment, StarRefundState
from shopbot.persistence.models import StarPaymentRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.types import utcnow


def _payment(row: StarPaymentRow) -> StarPayment:
    return StarPayment(
        id=row.id,
        charge_id=row.charge_id,
        user_id=row.user_id,
        stars=row.stars,
        amount=row.amount,
        payload=row.payload,
        product_id=row.product_id,
        refund_state=StarRefundState(row.refund_state),
        refunded_at=row.refunded_at,
        created_at=row.created_at,
    )


class SqlStarPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        *,
        charge_id: str,
        user_id: int,
        stars: int,
        amount: Decimal,
        payload: str,
        product_id: int | None,
    ) -> StarPayment | None:
        # ON CONFLICT DO NOTHING: a concurrent twin waits for the first insert to commit
        # and then inserts nothing.
        created = await self._session.execute(
            insert_or_ignore(self._session, StarPaymentRow, conflict_on=["charge_id"])
            .values(
                charge_id=charge_id,
                user_id=user_id,
                stars=stars,
                amount=amount,
                payload=payload,
                product_id=product_id,
                refund_state=StarRefundState.NONE.value,
                created_at=utcnow(),
            )
            .returning(StarPaymentRow.id)
        )
        payment_id = created.scalar_one_or_none()
        return None if payment_id is None else await self.get(payment_id)

    async def _one(self, condition: object) -> StarPayment | None:
        row = await self._session.scalar(
            select(StarPaymentRow).where(condition).execution_options(populate_existing=True)  # type: ignore[arg-type]
        )
        return _payment(row) if row else None

    async def get(self, payment_id: int) -> StarPayment | None:
        if not is_id(payment_id):  # no row has it, and SQL would overflow
            return None
        return await self._one(StarPaymentRow.id == payment_id)

    async def get_by_charge_id(self, charge_id: str) -> StarPayment | None:
        return await self._one(StarPaymentRow.charge_id == charge_id)

    async def list_for_user(self, user_id: int, limit: int) -> list[StarPayment]:
        rows = await self._session.scalars(
            select(StarPaymentRow)
            .where(StarPaymentRow.user_id == user_id)
            .order_by(StarPaymentRow.id.desc())
            .limit(limit)
        )
        return [_payment(row) for row in rows]

    async def set_refund(
        self, payment_id: int, *, allowed: frozenset[StarRefundState], to: StarRefundState
    ) -> StarPayment | None:
        values: dict[str, object] = {"refund_state": to.value}
        if to is StarRefundState.REFUNDED:
            values["refunded_at"] = utcnow()
        changed = await self._session.scalars(
            update(StarPaymentRow)
            .where(
                StarPaymentRow.id == payment_id,
                StarPaymentRow.refund_state.in_([state.value for state in allowed]),
            )
            .values(**values)
            .returning(StarPaymentRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        row = changed.one_or_none()
        return _payment(row) if row else None
