from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.broadcasts.models import (
    Broadcast,
    BroadcastContent,
    BroadcastStatus,
    ContentKind,
    RecipientState,
    UrlButton,
)
from shopbot.domain.broadcasts.ports import Outcome
from shopbot.domain.broadcasts.progress import Progress
from shopbot.persistence.models import BroadcastRecipientRow, BroadcastRow, UserRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.repositories.users import REACHABLE

Recipient = BroadcastRecipientRow


def _broadcast(row: BroadcastRow) -> Broadcast:
    return Broadcast(
        id=row.id,
        created_by=row.created_by,
        content=BroadcastContent(
            kind=ContentKind(row.kind),
            html=row.html,
            file_id=row.file_id,
            buttons=tuple(UrlButton(b["label"], b["url"]) for b in row.buttons),
        ),
        status=BroadcastStatus(row.status),
        total=row.total,
        created_at=row.created_at,
        finished_at=row.finished_at,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
    )


class SqlBroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self, *, request_key: str, created_by: int, content: BroadcastContent, at: datetime
    ) -> Broadcast | None:
        broadcast_id = await self._session.scalar(
            insert_or_ignore(self._session, BroadcastRow, conflict_on=["request_key"])
            .values(
                request_key=request_key,
                created_by=created_by,
                kind=content.kind.value,
                html=content.html,
                file_id=content.file_id,
                buttons=[{"label": b.label, "url": b.url} for b in content.buttons],
                status=BroadcastStatus.RUNNING.value,
                total=0,
                created_at=at,
            )
            .returning(BroadcastRow.id)
        )
        if broadcast_id is None:
            return None
        # The snapshot, in one statement: users who join later are not in it, and the
        # recipients' states are a cursor that does not move under the worker.
        audience = select(
            literal(broadcast_id),
            UserRow.id,
            func.row_number().over(order_by=UserRow.id),
            literal(RecipientState.PENDING.value),
            literal(0),
        ).where(*REACHABLE)
        await self._session.execute(
            insert(Recipient).from_select(
                ["broadcast_id", "user_id", "seq", "state", "attempts"], audience
            )
        )
        total = await self._session.scalar(
            select(func.count()).where(Recipient.broadcast_id == broadcast_id)
        )
        await self._session.execute(
            update(BroadcastRow).where(BroadcastRow.id == broadcast_id).values(total=total or 0)
        )
        return await self.get(broadcast_id)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._session.get(BroadcastRow, broadcast_id, populate_existing=True)
        return _broadcast(row) if row else None

    async def running(self) -> list[Broadcast]:
        rows = await self._session.scalars(
            select(BroadcastRow)
            .where(BroadcastRow.status == BroadcastStatus.RUNNING.value)
            .order_by(BroadcastRow.id)
            .execution_options(populate_existing=True)
        )
        return [_broadcast(row) for row in rows]

    async def set_progress_message(
        self, broadcast_id: int, *, chat_id: int, message_id: int
    ) -> None:
        await self._session.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def cancel(self, broadcast_id: int, at: datetime) -> bool:
        return await self._finish(broadcast_id, BroadcastStatus.CANCELLED, at)

    async def finish(self, broadcast_id: int, at: datetime) -> bool:
        return await self._finish(broadcast_id, BroadcastStatus.DONE, at)

    async def _finish(self, broadcast_id: int, status: BroadcastStatus, at: datetime) -> bool:
        result = await self._session.execute(
            update(BroadcastRow)
            .where(
                BroadcastRow.id == broadcast_id,
                BroadcastRow.status == BroadcastStatus.RUNNING.value,
            )
            .values(status=status.value, finished_at=at)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount == 1

    async def claim(self, broadcast_id: int, limit: int) -> list[int]:
        pending = (
            select(Recipient.user_id)
            .where(
                Recipient.broadcast_id == broadcast_id,
                Recipient.state == RecipientState.PENDING.value,
            )
            .order_by(Recipient.user_id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # ignored by SQLite: one process there
        )
        claimed = await self._session.scalars(
            update(Recipient)
            .where(Recipient.broadcast_id == broadcast_id, Recipient.user_id.in_(pending))
            .values(state=RecipientState.SENDING.value)
            .returning(Recipient.user_id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed)

    async def mark_started(self, broadcast_id: int, at: datetime) -> None:
        await self._session.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id, BroadcastRow.started_at.is_(None))
            .values(started_at=at)
            .execution_options(synchronize_session=False)
        )

    async def record(self, broadcast_id: int, outcomes: Sequence[Outcome], at: datetime) -> None:
        if not outcomes:
            return
        table = cast(Table, Recipient.__table__)
        await self._session.execute(
            update(table)
            .where(
                table.c.broadcast_id == broadcast_id,
                table.c.user_id == bindparam("b_user_id"),
                table.c.state == RecipientState.SENDING.value,
            )
            .values(state=bindparam("b_state"), attempts=bindparam("b_attempts"), outcome_at=at),
            [
                {"b_user_id": o.user_id, "b_state": o.state.value, "b_attempts": o.attempts}
                for o in outcomes
            ],
        )

    async def release(self, broadcast_id: int, user_ids: Sequence[int]) -> None:
        if not user_ids:
            return
        await self._session.execute(
            update(Recipient)
            .where(
                Recipient.broadcast_id == broadcast_id,
                Recipient.user_id.in_(user_ids),
                Recipient.state == RecipientState.SENDING.value,
            )
            .values(state=RecipientState.PENDING.value)
            .execution_options(synchronize_session=False)
        )

    async def abandon_in_flight(self) -> int:
        result = await self._session.execute(
            update(Recipient)
            .where(Recipient.state == RecipientState.SENDING.value)
            .values(state=RecipientState.UNKNOWN.value)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount

    async def progress(self, broadcast_id: int) -> Progress:
        total = await self._session.scalar(
            select(BroadcastRow.total).where(BroadcastRow.id == broadcast_id)
        )
        rows = await self._session.execute(
            select(Recipient.state, func.count())
            .where(Recipient.broadcast_id == broadcast_id)
            .group_by(Recipient.state)
        )
        counts: dict[str, int] = {state: count for state, count in rows}
        return Progress(
            total=total or 0,
            sent=counts.get(RecipientState.SENT.value, 0),
            blocked=counts.get(RecipientState.BLOCKED.value, 0),
            failed=counts.get(RecipientState.FAILED.value, 0),
            unknown=counts.get(RecipientState.UNKNOWN.value, 0),
        )
