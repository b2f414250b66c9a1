import functools
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.payments.models import (
    CREDITING,
    NO_STATUS_RANK,
    STATUS_RANK,
    InvoiceState,
    PaymentEvent,
    RefundState,
    TopupInvoice,
    status_rank,
)
from shopbot.persistence.models import PaymentEventRow, TopupInvoiceRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.types import utcnow


@functools.cache
def _stored_rank() -> ColumnElement[int]:
    """The rank (models.STATUS_RANK) of the row's current gateway status, in SQL, so the
    comparison happens under the row lock of the UPDATE itself and a race cannot win.
    Built once: a CASE over every status, which composing per webhook cost a tenth of
    the webhook service's CPU (bench/webhook.py, profiled)."""
    column = TopupInvoiceRow.gateway_status
    return case(
        (column.is_(None), NO_STATUS_RANK),
        *[(column == status, rank) for status, rank in STATUS_RANK.items()],
        else_=0,
    )


@functools.lru_cache(maxsize=256)
def _forward(status: str) -> ColumnElement[str]:
    """`status` if it ranks above the stored one, else the stored status unchanged (an
    immutable expression, kept per status: Heleket's statuses are a handful)."""
    return case(
        (_stored_rank() < status_rank(status), literal(status)),
        else_=TopupInvoiceRow.gateway_status,
    )


TOPUPS = cast(Table, TopupInvoiceRow.__table__)
"""The table, for Core statements: the hot path (a webhook's claim, read and state
change) needs no ORM identity map, whose bookkeeping cost more CPU than the SQL."""


def _invoice(row: Any) -> TopupInvoice:
    """From an ORM row or a Core row of TOPUPS (same attribute names)."""
    return TopupInvoice(
        id=row.id,
        user_id=row.user_id,
        order_id=row.order_id,
        request_key=row.request_key,
        amount=row.amount,
        currency=row.currency,
        state=InvoiceState(row.state),
        uuid=row.uuid,
        gateway_status=row.gateway_status,
        url=row.url,
        expires_at=row.expires_at,
        credited_amount=row.credited_amount,
        refund_state=RefundState(row.refund_state),
        refund_amount=row.refund_amount,
        note=row.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlTopupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        user_id: int,
        order_id: str,
        request_key: str,
        amount: Decimal,
        currency: str,
        then_buy_product_id: int | None = None,
    ) -> TopupInvoice | None:
        now = utcnow()
        created = await self._session.execute(
            insert_or_ignore(self._session, TopupInvoiceRow, conflict_on=["request_key"])
            .values(
                user_id=user_id,
                order_id=order_id,
                request_key=request_key,
                amount=amount,
                currency=currency,
                state=InvoiceState.PENDING.value,
                refund_state=RefundState.NONE.value,
                then_buy_product_id=then_buy_product_id,
                created_at=now,
                updated_at=now,
            )
            .returning(TopupInvoiceRow.id)
        )
        invoice_id = created.scalar_one_or_none()
        return None if invoice_id is None else await self._get(TopupInvoiceRow.id == invoice_id)

    async def _get(self, condition: object) -> TopupInvoice | None:
        found = await self._session.execute(select(*TOPUPS.c).where(condition))  # type: ignore[arg-type]
        row = found.one_or_none()
        return _invoice(row) if row else None

    async def get(self, invoice_id: int) -> TopupInvoice | None:
        if not is_id(invoice_id):  # no row has it, and SQL would overflow
            return None
        return await self._get(TopupInvoiceRow.id == invoice_id)

    async def then_buy_product_id(self, invoice_id: int) -> int | None:
        return await self._session.scalar(
            select(TopupInvoiceRow.then_buy_product_id).where(TopupInvoiceRow.id == invoice_id)
        )

    async def set_shown_message(self, invoice_id: int, chat_id: int, message_id: int) -> None:
        await self._session.execute(
            update(TopupInvoiceRow)
            .where(TopupInvoiceRow.id == invoice_id)
            .values(shown_chat_id=chat_id, shown_message_id=message_id)
        )

    async def take_shown_message(self, invoice_id: int) -> tuple[int, int] | None:
        shown = (
            await self._session.execute(
                select(TopupInvoiceRow.shown_chat_id, TopupInvoiceRow.shown_message_id).where(
                    TopupInvoiceRow.id == invoice_id
                )
            )
        ).one_or_none()
        if shown is None or shown[0] is None or shown[1] is None:
            return None
        chat_id, message_id = int(shown[0]), int(shown[1])
        # Forgotten only if still the same message (RETURNING would give the new NULLs):
        # of two concurrent takers (webhook and "Check payment") one gets it.
        taken = await self._session.execute(
            update(TopupInvoiceRow)
            .where(
                TopupInvoiceRow.id == invoice_id,
                TopupInvoiceRow.shown_chat_id == chat_id,
                TopupInvoiceRow.shown_message_id == message_id,
            )
            .values(shown_chat_id=None, shown_message_id=None)
            .returning(TopupInvoiceRow.id)
            .execution_options(synchronize_session=False)
        )
        return None if taken.scalar_one_or_none() is None else (chat_id, message_id)

    async def get_by_request_key(self, request_key: str) -> TopupInvoice | None:
        return await self._get(TopupInvoiceRow.request_key == request_key)

    async def get_by_uuid(self, uuid: str) -> TopupInvoice | None:
        return await self._get(TopupInvoiceRow.uuid == uuid)

    async def get_by_order_id(self, order_id: str) -> TopupInvoice | None:
        return await self._get(TopupInvoiceRow.order_id == order_id)

    async def _update(
        self, invoice_id: int, *conditions: object, **values: object
    ) -> TopupInvoice | None:
        """One conditional UPDATE returning the changed invoice, or None if none matched."""
        changed = await self._session.execute(
            update(TOPUPS)
            .where(TOPUPS.c.id == invoice_id, *conditions)  # type: ignore[arg-type]
            .values(**values, updated_at=utcnow())
            .returning(*TOPUPS.c)
        )
        row = changed.one_or_none()
        return _invoice(row) if row else None

    async def attach_gateway(
        self,
        invoice_id: int,
        *,
        uuid: str,
        url: str | None,
        expires_at: datetime | None,
        status: str,
    ) -> None:
        """Store Heleket's answer to the create (or info) call. Its status only replaces
        a lower-ranked one: a webhook may have moved the invoice on meanwhile."""
        await self._update(
            invoice_id, uuid=uuid, url=url, expires_at=expires_at, gateway_status=_forward(status)
        )

    async def set_gateway_status(self, invoice_id: int, status: str) -> TopupInvoice | None:
        """Move the gateway status forward to `status` (models.STATUS_RANK); None, and
        nothing changed, when the stored status ranks the same or higher."""
        return await self._update(
            invoice_id, _stored_rank() < status_rank(status), gateway_status=status
        )

    async def transition(
        self,
        invoice_id: int,
        *,
        allowed: frozenset[InvoiceState],
        to: InvoiceState,
        credited_amount: Decimal | None = None,
        note: str | None = None,
        gateway_status: str | None = None,
    ) -> TopupInvoice | None:
        values: dict[str, object] = {"state": to.value}
        if credited_amount is not None:
            values["credited_amount"] = credited_amount
        if note is not None:
            values["note"] = note
        if gateway_status is not None:
            values["gateway_status"] = _forward(gateway_status)
        states = [state.value for state in allowed]
        return await self._update(invoice_id, TopupInvoiceRow.state.in_(states), **values)

    async def set_refund(
        self,
        invoice_id: int,
        *,
        allowed: frozenset[RefundState],
        to: RefundState,
        amount: Decimal | None = None,
    ) -> TopupInvoice | None:
        values: dict[str, object] = {"refund_state": to.value}
        if amount is not None:
            values["refund_amount"] = amount
        states = [state.value for state in allowed]
        return await self._update(invoice_id, TopupInvoiceRow.refund_state.in_(states), **values)

    async def needing_reconciliation(
        self, *, created_before: datetime, limit: int
    ) -> list[TopupInvoice]:
        rows = await self._session.execute(
            select(*TOPUPS.c)
            .where(
                or_(
                    TopupInvoiceRow.state == InvoiceState.PENDING.value,
                    TopupInvoiceRow.refund_state == RefundState.REQUESTED.value,
                ),
                TopupInvoiceRow.created_at < created_before,
            )
            .order_by(TopupInvoiceRow.created_at)
            .limit(limit)
        )
        return [_invoice(row) for row in rows]

    async def count_pending(self) -> int:
        found = await self._session.scalar(
            select(func.count(TopupInvoiceRow.id)).where(
                TopupInvoiceRow.state == InvoiceState.PENDING.value
            )
        )
        return int(found or 0)

    async def paid_with(self, uuid: str) -> tuple[str | None, str | None]:
        """(payer_currency, network) of the latest crediting report of the invoice, as
        Heleket's webhook or info answer gave them (SPEC §4.2); (None, None) if unknown."""
        body = await self._session.scalar(
            select(PaymentEventRow.body)
            .where(
                PaymentEventRow.uuid == uuid,
                PaymentEventRow.status.in_([status.value for status in CREDITING]),
            )
            .order_by(PaymentEventRow.id.desc())
            .limit(1)
        )
        try:
            report = json.loads(body) if body else {}
        except ValueError:
            report = {}
        if not isinstance(report, dict):
            return None, None
        currency, network = report.get("payer_currency"), report.get("network")
        return (
            currency if isinstance(currency, str) else None,
            network if isinstance(network, str) else None,
        )

    async def record_event(self, event: PaymentEvent) -> int | None:
        recorded = await self._session.execute(
            insert_or_ignore(
                self._session, PaymentEventRow, conflict_on=["provider", "uuid", "status"]
            )
            .values(
                provider="heleket",
                uuid=event.uuid,
                status=event.status,
                kind=event.kind,
                order_id=event.order_id,
                source=event.source,
                body=event.body,
                received_at=utcnow(),
            )
            .returning(PaymentEventRow.id)
        )
        return recorded.scalar_one_or_none()

    async def set_event_outcome(self, event_id: int, outcome: str, note: str | None) -> None:
        await self._session.execute(
            update(PaymentEventRow)
            .where(PaymentEventRow.id == event_id)
            .values(outcome=outcome, note=note)
            .execution_options(synchronize_session=False)
        )
