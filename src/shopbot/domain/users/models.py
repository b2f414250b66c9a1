from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    """The Telegram user id (BIGINT)."""
    username: str | None
    language: str
    referrer_id: int | None
    is_blocked: bool
    created_at: datetime
    updated_at: datetime
