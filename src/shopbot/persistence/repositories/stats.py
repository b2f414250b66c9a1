from sqlalchemy.ext.asyncio import AsyncSession


class SqlStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
