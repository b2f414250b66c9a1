"""An in-process circuit breaker (one event loop). closed: `threshold` consecutive failures
open it. open: calls fail fast (CircuitOpen) for `cooldown` seconds. half-open: one trial
call passes; its success closes the breaker, its failure opens it for another cooldown.
`on_change`, when set, is called with the new state's name after each change a call
makes (open -> half-open is seen at the trial call: the state itself is computed)."""

import time
from collections.abc import Callable
from typing import Literal


class CircuitOpen(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit breaker is open; retry in {retry_after:.1f}s")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cooldown < 0:
            raise ValueError("threshold must be >= 1 and cooldown >= 0")
        self.threshold, self.cooldown, self._clock = threshold, cooldown, clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self.on_change: Callable[[str], None] | None = None
        self._published = "closed"

    def _publish(self) -> None:
        state = self.state
        if self.on_change is not None and state != self._published:
            self.on_change(state)
        self._published = state

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        if self._trial or self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def before_call(self) -> bool:
        """Raise CircuitOpen to fail fast; else return whether this call is the trial call."""
        if self._opened_at is None:
            return False
        remaining = self._opened_at + self.cooldown - self._clock()
        if remaining > 0 or self._trial:
            raise CircuitOpen(max(remaining, 0.0))
        self._trial = True
        self._publish()
        return True

    def on_success(self) -> None:
        self._failures, self._opened_at, self._trial = 0, None, False
        self._publish()

    def on_failure(self) -> None:
        self._failures += 1
        if self._trial or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial = False
        self._publish()

    def on_abandon(self, trial: bool) -> None:
        """The call ended without a verdict (cancelled, local error): free the trial slot."""
        if trial:
            self._trial = False
