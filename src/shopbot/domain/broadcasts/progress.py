"""Counts of a broadcast's recipients, and how they are shown to the admin."""

import math
from dataclasses import dataclass

BAR_WIDTH = 10


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    """Claimed by a worker that died before recording the outcome (maybe delivered)."""

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.unknown

    @property
    def left(self) -> int:
        return max(self.total - self.done, 0)

    @property
    def percent(self) -> int:
        """0..100, rounded down (100 only when nothing is left)."""
        return 100 if self.total == 0 else self.done * 100 // self.total

    def bar(self, width: int = BAR_WIDTH) -> str:
        """A text bar such as ▓▓▓▓▓░░░░░ for 50 %."""
        filled = width if self.total == 0 else self.done * width // self.total
        return "▓" * filled + "░" * (width - filled)

    def eta_seconds(self, per_second: int) -> int:
        """Seconds the recipients left take at `per_second` messages a second (the pace
        BROADCAST_PER_SECOND), rounded up."""
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        return math.ceil(self.left / per_second)


def eta_text(seconds: int) -> str:
    """`1:05:09`, `5:09` or `0:09`: hours only when there are any."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
