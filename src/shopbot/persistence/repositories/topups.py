import functools
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.payments.models import (
    CREDITING,
    NO_STATUS_RANK,
    STATUS_RANK,
    InvoiceOwner,
    InvoiceState,
    PaymentEvent,
    RefundState,
    TopupInvoice,
    status_rank,
)
from shopbot.persistence.models import PaymentEventRow, TopupInvoiceRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.repositories.ledger import ACCOUNTS
from shopbot.persistence.repositories.users import USER_COLUMNS, USERS, user_from_row
from shopbot.persistence.types import utcnow

TOPUPS = cast(Table, TopupInvoiceRow.__table__)
"""The table, for Core statements: the hot path (a webhook's claim, read and state
change) needs no ORM identity map, whose bookkeeping cost more CPU than the SQL."""
EVENTS = cast(Table, PaymentEventRow.__table__)


@functools.cache
def _stored_rank() -> ColumnElement[int]:
    """The rank (models.STATUS_RANK) of the row's current gateway status, in SQL, so the
    comparison happens under the row lock of the UPDATE itself and a race cannot win."""
    column = TOPUPS.c.gateway_status
    return case(
        (column.is_(None), NO_STATUS_RANK),
        *[(column == status, rank) for status, rank in STATUS_RANK.items()],
        else_=0,
    )


STATUS = bindparam("status", type_=String())
STATUS_RANK_PARAM = bindparam("status_rank", type_=Integer())


def _status_params(status: str) -> dict[str, object]:
    return {"status": status, "status_rank": status_rank(status)}


CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "states": lambda: TOPUPS.c.state.in_(bindparam("states", expanding=True)),
    "refund_states": lambda: TOPUPS.c.refund_state.in_(bindparam("refund_states", expanding=True)),
    "ranks_below": lambda: _stored_rank() < STATUS_RANK_PARAM,
}
"""Conditions of `_update_statement` by name, each with bind parameters of its own:
`states` and `refund_states` (lists of values), `ranks_below` (`status_rank`: the stored
gateway status ranks below it)."""


@functools.cache
def _update_statement(conditions: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """UPDATE of one invoice (`invoice_id`) under `conditions` (names in CONDITIONS),
    setting each of `columns` from the parameter `new_<column>`, RETURNING the row.

    `gateway_status` is set from `status`: as given under `ranks_below`, else only if it
    ranks above the stored one (`status_rank`), so a status never moves back. Built once
    per shape: composing it per webhook (the CASE over every status above all) cost more
    CPU than running it (bench/webhook.py, profiled)."""
    values: dict[str, Any] = {
        column: bindparam(f"new_{column}", type_=TOPUPS.c[column].type)
        for column in columns
        if column != "gateway_status"
    }
    if "gateway_status" in columns:
        values["gateway_status"] = (
            STATUS
            if "ranks_below" in conditions
            else case((_stored_rank() < STATUS_RANK_PARAM, STATUS), else_=TOPUPS.c.gateway_status)
        )
    values["updated_at"] = bindparam("new_updated_at", type_=TOPUPS.c.updated_at.type)
    return (
        update(TOPUPS)
        .where(TOPUPS.c.id == bindparam("invoice_id"), *(CONDITIONS[c]() for c in conditions))
        .values(values)
        .returning(*TOPUPS.c)
    )


@functools.cache
def _select_invoice(column: str) -> Any:
    """SELECT every column of the invoice whose `column` equals the parameter `match`."""
    return select(*TOPUPS.c).where(TOPUPS.c[column] == bindparam("match"))


@functools.cache
def _owner_statement() -> Any:
    """The invoice (`invoice_id`), its owner's row and the balance of their ledger
    `account` (0.00 before their first money movement): one statement for what a payment
    notice reads."""
    balance = func.coalesce(ACCOUNTS.c.balance, literal(Decimal("0.00"), ACCOUNTS.c.balance.type))
    return (
        select(
            *USER_COLUMNS,
            balance.label("balance"),
            TOPUPS.c.then_buy_product_id,
            TOPUPS.c.shown_chat_id,
            TOPUPS.c.shown_message_id,
        )
        .select_from(
            TOPUPS.join(USERS, USERS.c.id == TOPUPS.c.user_id).outerjoin(
                ACCOUNTS, ACCOUNTS.c.code == bindparam("account", type_=ACCOUNTS.c.code.type)
            )
        )
        .where(TOPUPS.c.id == bindparam("invoice_id"))
    )


@functools.cache
def _event_statements(dialect: str) -> tuple[Any, Any]:
    """(claim, outcome): INSERT ... ON CONFLICT DO NOTHING RETURNING id of a status
    report, and the UPDATE of its outcome (`event_id`, `new_outcome`, `new_note`)."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claim = (
        insert_(EVENTS)
        .on_conflict_do_nothing(index_elements=["provider", "uuid", "status"])
        .returning(EVENTS.c.id)
    )
    outcome = (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("event_id"))
        .values(
            outcome=bindparam("new_outcome", type_=EVENTS.c.outcome.type),
            note=bindparam("new_note", type_=EVENTS.c.note.type),
        )
    )
    return claim, outcome


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
        return None if invoice_id is None else await self._get("id", invoice_id)

    async def _get(self, column: str, value: object) -> TopupInvoice | None:
        found = await self._session.execute(_select_invoice(column), {"match": value})
        row = found.one_or_none()
        return _invoice(row) if row else None

    async def get(self, invoice_id: int) -> TopupInvoice | None:
        if not is_id(invoice_id):  # no row has it, and SQL would overflow
            return None
        return await self._get("id", invoice_id)

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
                select(TOPUPS.c.shown_chat_id, TOPUPS.c.shown_message_id).where(
                    TOPUPS.c.id == invoice_id
                )
            )
        ).one_or_none()
        if shown is None or shown[0] is None or shown[1] is None:
            return None
        message = (int(shown[0]), int(shown[1]))
        return message if await self.forget_shown_message(invoice_id, message) else None

    async def forget_shown_message(self, invoice_id: int, shown: tuple[int, int]) -> bool:
        # Forgotten only if still the same message (RETURNING would give the new NULLs):
        # of two concurrent takers (webhook and "Check payment") one gets it.
        taken = await self._session.execute(
            update(TOPUPS)
            .where(
                TOPUPS.c.id == invoice_id,
                TOPUPS.c.shown_chat_id == shown[0],
                TOPUPS.c.shown_message_id == shown[1],
            )
            .values(shown_chat_id=None, shown_message_id=None)
            .returning(TOPUPS.c.id)
        )
        return taken.scalar_one_or_none() is not None

    async def owner(self, invoice_id: int, account: str) -> InvoiceOwner | None:
        found = await self._session.execute(
            _owner_statement(), {"invoice_id": invoice_id, "account": account}
        )
        row = found.one_or_none()
        if row is None:
            return None
        shown = row.shown_chat_id, row.shown_message_id
        return InvoiceOwner(
            user=user_from_row(row),
            balance=row.balance,
            then_buy_product_id=row.then_buy_product_id,
            shown_message=None if None in shown else (int(shown[0]), int(shown[1])),
        )

    async def get_by_request_key(self, request_key: str) -> TopupInvoice | None:
        return await self._get("request_key", request_key)

    async def get_by_uuid(self, uuid: str) -> TopupInvoice | None:
        return await self._get("uuid", uuid)

    async def get_by_order_id(self, order_id: str) -> TopupInvoice | None:
        return await self._get("order_id", order_id)

    async def _update(
        self,
        invoice_id: int,
        values: dict[str, object],
        *,
        status: str | None = None,
        states: list[str] | None = None,
        refund_states: list[str] | None = None,
        ranks_below: bool = False,
    ) -> TopupInvoice | None:
        """One conditional UPDATE returning the changed invoice, or None if none matched:
        `values` by column, the gateway `status` (moved forward only, `_update_statement`),
        if any, and only where the state is one of `states`, the refund state one of
        `refund_states`, and (`ranks_below`) the stored status ranks below `status`."""
        given = {"states": states, "refund_states": refund_states}
        params: dict[str, object] = {k: v for k, v in given.items() if v is not None}
        conditions = tuple(params) + (("ranks_below",) if ranks_below else ())
        columns = tuple(values) + (("gateway_status",) if status is not None else ())
        statement = _update_statement(conditions, columns)
        params.update(invoice_id=invoice_id, new_updated_at=utcnow())
        params.update({f"new_{column}": value for column, value in values.items()})
        if status is not None:
            params.update(_status_params(status))
        changed = await self._session.execute(statement, params)
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
        values: dict[str, object] = {"uuid": uuid, "url": url, "expires_at": expires_at}
        await self._update(invoice_id, values, status=status)

    async def set_gateway_status(self, invoice_id: int, status: str) -> TopupInvoice | None:
        """Move the gateway status forward to `status` (models.STATUS_RANK); None, and
        nothing changed, when the stored status ranks the same or higher."""
        return await self._update(invoice_id, {}, status=status, ranks_below=True)

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
        states = sorted(state.value for state in allowed)
        return await self._update(invoice_id, values, status=gateway_status, states=states)

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
        states = sorted(state.value for state in allowed)
        return await self._update(invoice_id, values, refund_states=states)

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

    def _events(self) -> tuple[Any, Any]:
        return _event_statements(self._session.get_bind().dialect.name)

    async def record_event(self, event: PaymentEvent) -> int | None:
        recorded = await self._session.execute(
            self._events()[0],
            {
                "provider": "heleket",
                "uuid": event.uuid,
                "status": event.status,
                "kind": event.kind,
                "order_id": event.order_id,
                "source": event.source,
                "body": event.body,
                "received_at": utcnow(),
            },
        )
        return recorded.scalar_one_or_none()

    async def set_event_outcome(self, event_id: int, outcome: str, note: str | None) -> None:
        params = {"event_id": event_id, "new_outcome": outcome, "new_note": note}
        await self._session.execute(self._events()[1], params)
