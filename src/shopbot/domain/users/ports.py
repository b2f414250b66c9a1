from typing import Protocol

from shopbot.domain.users.models import User


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def register(
        self,
        user_id: int,
        *,
        username: str | None,
        language: str,
        referrer_id: int | None = None,
    ) -> User:
        """Create the user or refresh the username; the referrer is stored only once,
        on first registration, and never points at the user itself."""
        ...

    async def set_language(self, user_id: int, language: str) -> None: ...

    async def set_blocked(self, user_id: int, blocked: bool) -> None: ...
