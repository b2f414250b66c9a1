"""A broadcast as stored: its content, its state and its recipients' outcomes."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ContentKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"


class BroadcastStatus(StrEnum):
    RUNNING = "running"
    """Sending, or waiting for the worker (after a restart it resumes from the cursor)."""
    CANCELLED = "cancelled"
    """An admin stopped it; recipients still pending are never sent to."""
    DONE = "done"


class RecipientState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    """Claimed by a worker in a committed transaction before its request to Telegram."""
    SENT = "sent"
    BLOCKED = "blocked"
    """Telegram answered 403: the user blocked the bot (the user is marked unreachable)."""
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Left SENDING by a worker that died: maybe delivered, never sent again."""


FINAL_STATES = frozenset(
    {RecipientState.SENT, RecipientState.BLOCKED, RecipientState.FAILED, RecipientState.UNKNOWN}
)


@dataclass(frozen=True, slots=True)
class UrlButton:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class BroadcastContent:
    """What every recipient gets: `html` is the text (TEXT) or the caption (PHOTO,
    DOCUMENT; may be empty) in Telegram's HTML; `file_id` the Telegram file of a photo or
    document; `buttons` one URL button per row."""

    kind: ContentKind
    html: str
    file_id: str | None = None
    buttons: tuple[UrlButton, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_by: int
    content: BroadcastContent
    status: BroadcastStatus
    total: int
    """Recipients in the audience snapshot taken when it was confirmed."""
    created_at: datetime
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    """The admin's progress message, edited while it runs (None until it was shown)."""
