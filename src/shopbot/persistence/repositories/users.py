from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.users.models import User
from shopbot.persistence.models import UserRow
from shopbot.persistence.types import UTCDateTime, utcnow

USERS = cast(Table, UserRow.__table__)
USER_COLUMNS = [
    USERS.c[name]
    for name in (
        "id",
        "username",
        "language",
        "referrer_id",
        "is_blocked",
        "created_at",
        "updated_at",
        "unreachable_since",
    )
]
"""What `register` reads back (Core columns: no ORM identity map on the hot path)."""
_INSERT = (
    "INSERT INTO users (id, username, language, referrer_id, is_blocked, created_at, "
    "updated_at) VALUES (:id, :username, :language, :referrer_id, false, :now, :now) "
    "ON CONFLICT (id) DO NOTHING "
    "RETURNING id, username, language, referrer_id, is_blocked, created_at, updated_at, "
    "unreachable_since"
)
_SELECT = (
    "SELECT id, username, language, referrer_id, is_blocked, created_at, updated_at, "
    "unreachable_since FROM users WHERE id = :id"
)
_NOW = bindparam("now", type_=UTCDateTime())
REGISTER = (
    # Only the module's own constants are joined here, no input: not an injection.
    text("WITH new AS (" + _INSERT + ") SELECT * FROM new UNION ALL " + _SELECT)  # noqa: S608
    .bindparams(_NOW)
    .columns(*USER_COLUMNS)
)
"""Every update's registration in one round trip (PostgreSQL): the user inserted unless
known, and their row. The outer SELECT sees the table as the statement began, so exactly
one branch yields the row, unless a concurrent first registration committed after that
moment (then neither does). Plain SQL, built once: composing the statement per call cost
more CPU than running it (bench/dispatch.py --profile)."""
INSERT_OR_IGNORE = text(_INSERT).bindparams(_NOW).columns(*USER_COLUMNS)
ROW = text(_SELECT).columns(*USER_COLUMNS)


def user_from_row(row: Any) -> User:
    """A User from a row holding USER_COLUMNS (ORM or Core)."""
    return User(
        id=row.id,
        username=row.username,
        language=row.language,
        referrer_id=row.referrer_id,
        is_blocked=row.is_blocked,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


REACHABLE = (UserRow.unreachable_since.is_(None), UserRow.is_blocked.is_(False))
"""Users a broadcast goes to: the bot can reach them and the shop has not banned them."""


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        if not is_id(user_id):  # no row has it, and SQL would overflow
            return None
        row = await self._session.get(UserRow, user_id, populate_existing=True)
        return user_from_row(row) if row else None

    async def register(
        self,
        user_id: int,
        *,
        username: str | None,
        language: str,
        referrer_id: int | None = None,
    ) -> User:
        # Runs for every update, so it is one statement in the common case (the user is
        # known and unchanged): insert-or-ignore and the row, together (PostgreSQL), or
        # the row inserted and else read (SQLite). The UPDATE only when something changed.
        now = utcnow()
        inserted = {
            "id": user_id,
            "username": username,
            "language": language,
            "referrer_id": referrer_id,
            "now": now,
        }
        row = await self._insert_or_read(inserted, user_id)
        # A known user's username is refreshed and, since they just wrote to the bot, a
        # mark left by a broadcast that found them unreachable is cleared.
        if row.username != username or row.unreachable_since is not None:
            row = (
                await self._session.execute(
                    update(USERS)
                    .where(USERS.c.id == user_id)
                    .values(username=username, unreachable_since=None, updated_at=now)
                    .returning(*USER_COLUMNS)
                )
            ).one()
        return user_from_row(row)

    async def _insert_or_read(self, inserted: dict[str, Any], user_id: int) -> Row[Any]:
        """The user's row after `inserted` (INSERT ... ON CONFLICT DO NOTHING on SQLite)
        or `REGISTER` (PostgreSQL, one round trip): the new row, or the one that was
        there; a concurrent first registration that committed after the statement began
        is read by the plain SELECT below."""
        if self._session.get_bind().dialect.name == "postgresql":
            row = (await self._session.execute(REGISTER, inserted)).first()
        else:
            row = (await self._session.execute(INSERT_OR_IGNORE, inserted)).first()
        if row is None:
            row = (await self._session.execute(ROW, {"id": user_id})).one()
        return row

    async def set_language(self, user_id: int, language: str) -> None:
        await self._set(user_id, language=language)

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._set(user_id, is_blocked=blocked)

    async def find_by_username(self, username: str) -> User | None:
        name = username.strip().removeprefix("@").lower()
        if not name:
            return None
        # Usernames move between accounts; the most recently seen holder wins.
        row = await self._session.scalar(
            select(UserRow)
            .where(func.lower(UserRow.username) == name)
            .order_by(UserRow.updated_at.desc(), UserRow.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return user_from_row(row) if row else None

    async def reachable_ids(self, *, after_id: int, limit: int) -> list[int]:
        ids = await self._session.scalars(
            select(UserRow.id)
            .where(UserRow.id > after_id, *REACHABLE)
            .order_by(UserRow.id)
            .limit(limit)
        )
        return list(ids)

    async def count_reachable(self) -> int:
        return await self._session.scalar(select(func.count(UserRow.id)).where(*REACHABLE)) or 0

    async def mark_unreachable(self, user_ids: list[int], at: datetime) -> None:
        if not user_ids:
            return
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id.in_(user_ids), UserRow.unreachable_since.is_(None))
            .values(unreachable_since=at, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def mark_reachable(self, user_id: int) -> None:
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.unreachable_since.is_not(None))
            .values(unreachable_since=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def unreachable_since(self, user_id: int) -> datetime | None:
        return await self._session.scalar(
            select(UserRow.unreachable_since).where(UserRow.id == user_id)
        )

    async def _set(self, user_id: int, **values: object) -> None:
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
