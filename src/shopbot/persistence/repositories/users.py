from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.ids import is_id
from shopbot.domain.users.models import User
from shopbot.persistence.models import UserRow
from shopbot.persistence.repositories._sql import insert_or_ignore
from shopbot.persistence.types import utcnow


def _user(row: UserRow) -> User:
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
        return _user(row) if row else None

    async def register(
        self,
        user_id: int,
        *,
        username: str | None,
        language: str,
        referrer_id: int | None = None,
    ) -> User:
        # Inserted once: a known user keeps the referrer stored at first registration.
        now = utcnow()
        await self._session.execute(
            insert_or_ignore(self._session, UserRow, conflict_on=["id"]).values(
                id=user_id,
                username=username,
                language=language,
                referrer_id=referrer_id,
                is_blocked=False,
                created_at=now,
                updated_at=now,
            )
        )
        # One statement refreshes the username and, since the user just wrote to the bot,
        # clears a mark left by a broadcast that found them unreachable.
        await self._session.execute(
            update(UserRow)
            .where(
                UserRow.id == user_id,
                or_(
                    UserRow.username.is_distinct_from(username),
                    UserRow.unreachable_since.is_not(None),
                ),
            )
            .values(username=username, unreachable_since=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        user = await self.get(user_id)
        if user is None:
            raise RuntimeError(f"user {user_id} vanished during registration")
        return user

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
        return _user(row) if row else None

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
