"""Who the person at the browser can be: two customers (one per bot language) and the
shop's admin. They are Telegram emulator users; the admin's id is in ADMIN_IDS."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    id: int
    name: str
    role: str
    """"customer" or "admin"."""
    language: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


IDENTITIES = (
    Identity(1001, "Alice", "customer", "en"),
    Identity(1002, "Борис", "customer", "ru"),
    Identity(9001, "Shop owner", "admin", "en"),
)
ADMIN_IDS = tuple(i.id for i in IDENTITIES if i.role == "admin")


def identity(user_id: int) -> Identity | None:
    return next((i for i in IDENTITIES if i.id == user_id), None)
