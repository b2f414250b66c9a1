from datetime import datetime
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
        """Create the user or refresh the username; `referrer_id` is stored as given
        when the user is created and never changed afterwards (which referrer may be
        given is `domain.users.referrals`'s rule, applied by `register_user`). A user
        who was marked unreachable is reachable again: they just wrote to the bot."""
        ...

    async def set_language(self, user_id: int, language: str) -> None: ...

    async def set_blocked(self, user_id: int, blocked: bool) -> None: ...

    async def find_by_username(self, username: str) -> User | None:
        """The user with this Telegram username (case-insensitive, a leading @ ignored)."""
        ...

    async def reachable_ids(self, *, after_id: int, limit: int) -> list[int]:
        """Ids of users the bot can message (not unreachable, not blocked by the shop),
        ascending and greater than `after_id`: pages for a broadcast."""
        ...

    async def count_reachable(self) -> int: ...

    async def mark_unreachable(self, user_ids: list[int], at: datetime) -> None:
        """Telegram refused to deliver to these users (they blocked the bot)."""
        ...

    async def mark_reachable(self, user_id: int) -> None: ...

    async def unreachable_since(self, user_id: int) -> datetime | None: ...
