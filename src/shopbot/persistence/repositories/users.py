from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

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


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
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
        if referrer_id == user_id or (
            referrer_id is not None and await self._session.get(UserRow, referrer_id) is None
        ):
            referrer_id = None
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
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.username.is_distinct_from(username))
            .values(username=username, updated_at=now)
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

    async def _set(self, user_id: int, **values: object) -> None:
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
