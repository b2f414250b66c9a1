from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shopbot.domain.broadcasts.models import (
    Broadcast,
    BroadcastContent,
    RecipientState,
)
from shopbot.domain.broadcasts.progress import Progress


@dataclass(frozen=True, slots=True)
class Outcome:
    user_id: int
    state: RecipientState
    """SENT, BLOCKED or FAILED."""
    attempts: int
    """Requests made to Telegram for this recipient (429s included)."""


class BroadcastRepository(Protocol):
    async def create(
        self, *, request_key: str, created_by: int, content: BroadcastContent, at: datetime
    ) -> Broadcast | None:
        """A RUNNING broadcast whose recipients are every user reachable now (the
        audience snapshot: users who join later are not in it), in ascending user id.
        None when a broadcast with `request_key` exists already (a double tap)."""
        ...

    async def get(self, broadcast_id: int) -> Broadcast | None: ...

    async def running(self) -> list[Broadcast]:
        """RUNNING broadcasts, oldest first."""
        ...

    async def set_progress_message(
        self, broadcast_id: int, *, chat_id: int, message_id: int
    ) -> None: ...

    async def cancel(self, broadcast_id: int, at: datetime) -> bool:
        """RUNNING → CANCELLED; False if it was not running."""
        ...

    async def finish(self, broadcast_id: int, at: datetime) -> bool:
        """RUNNING → DONE; False if it was not running."""
        ...

    async def mark_started(self, broadcast_id: int, at: datetime) -> None:
        """Records when a worker first took it up (kept on resumes)."""
        ...

    async def claim(self, broadcast_id: int, limit: int) -> list[int]:
        """Up to `limit` PENDING recipients, lowest user id first, made SENDING; their
        user ids. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so two
        claimers never get the same recipient. The caller commits before sending."""
        ...

    async def record(self, broadcast_id: int, outcomes: Sequence[Outcome], at: datetime) -> None:
        """The outcomes of claimed (SENDING) recipients."""
        ...

    async def release(self, broadcast_id: int, user_ids: Sequence[int]) -> None:
        """Claimed (SENDING) recipients whose request never started: PENDING again."""
        ...

    async def abandon_in_flight(self) -> int:
        """Every SENDING recipient of any broadcast becomes UNKNOWN: called by the worker
        that just took the lease, when any such claim is a dead worker's. Returns how many."""
        ...

    async def progress(self, broadcast_id: int) -> Progress: ...
