"""Token buckets: the algorithm, its parameters and its in-memory store.

A bucket holds up to `capacity` tokens and gains `refill` tokens every `period_ms`
milliseconds, continuously; a request takes one token or is refused. A token bucket,
not a sliding window: the burst allowance is simply capacity above the pace, the state
is two numbers per bucket (a sliding-window log keeps one entry per request, a
sliding-window counter only approximates), and the time until the next token is exact,
so the notice can say "try again in N s".

Tokens are kept as whole "units" (tokens * period_ms): refilling `elapsed_ms * refill`
units keeps the arithmetic exact in integers, in Python here and in the Lua script
(`redis_buckets.py`), which runs the same steps on the same numbers.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Bucket:
    """`capacity` tokens at most, `refill` tokens more every `period_ms` milliseconds."""

    capacity: int
    refill: int
    period_ms: int

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.refill < 1 or self.period_ms < 1:
            raise ValueError(f"a bucket needs capacity, refill and period of at least 1: {self}")


@dataclass(frozen=True)
class Verdict:
    """One check's answer. `retry_after_ms`: until the next token (0 when allowed).
    `notify`: this refusal is the first in its notice window (one `period_ms` from the
    first refusal), so the user should be told; later refusals in the window are not."""

    allowed: bool
    retry_after_ms: int = 0
    notify: bool = False

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds until the next token, rounded up (at least 1 when refused)."""
        return max(1, math.ceil(self.retry_after_ms / 1000)) if not self.allowed else 0


ALLOWED = Verdict(True)


class TokenBuckets(Protocol):
    async def take(self, key: str, bucket: Bucket, *, now_ms: int | None = None) -> Verdict:
        """Take one token from the bucket stored under `key`. `now_ms`: the time to use
        (milliseconds; tests), by default the store's own clock."""
        ...


@dataclass
class BucketState:
    units: int
    """Tokens * period_ms."""
    at_ms: int
    """When `units` was last brought up to date."""
    noticed_until_ms: int = 0
    """Refusals before this moment were already announced."""


def take_token(
    state: BucketState | None, bucket: Bucket, now_ms: int
) -> tuple[BucketState, Verdict, int]:
    """One check: the new state, the verdict, and how long (ms, ≥ 1) the state matters
    (until the bucket is full again and the notice window is over; after that a missing
    state means the same thing). A clock that went back adds nothing and takes nothing
    away."""
    full = bucket.capacity * bucket.period_ms
    if state is None:
        state = BucketState(units=full, at_ms=now_ms)
    units, at_ms, noticed = state.units, state.at_ms, state.noticed_until_ms
    if now_ms > at_ms:
        # Past `full` ms any bucket is full (refill ≥ 1): the product stays small.
        units = min(full, units + min(now_ms - at_ms, full) * bucket.refill)
        at_ms = now_ms
    if units >= bucket.period_ms:
        units -= bucket.period_ms
        verdict = ALLOWED
    else:
        retry = -(-(bucket.period_ms - units) // bucket.refill)  # ceiling division
        notify = now_ms >= noticed
        if notify:
            noticed = now_ms + bucket.period_ms
        verdict = Verdict(False, retry, notify)
    ttl = max(-(-(full - units) // bucket.refill), noticed - now_ms, 1)
    return BucketState(units, at_ms, noticed), verdict, ttl


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class MemoryTokenBuckets:
    """Token buckets in this process's memory: development and the demo (one process,
    no Redis), and tests with an injected clock (`clock`: milliseconds). Buckets are
    forgotten once they no longer matter, checked every `SWEEP_EVERY` takes."""

    SWEEP_EVERY = 1000

    def __init__(self, clock: Callable[[], int] = monotonic_ms) -> None:
        self.clock = clock
        self._states: dict[str, tuple[BucketState, int]] = {}
        self._takes = 0

    async def take(self, key: str, bucket: Bucket, *, now_ms: int | None = None) -> Verdict:
        now = self.clock() if now_ms is None else now_ms
        entry = self._states.get(key)
        state = entry[0] if entry is not None and entry[1] > now else None
        state, verdict, ttl = take_token(state, bucket, now)
        self._states[key] = (state, now + ttl)
        self._takes += 1
        if self._takes % self.SWEEP_EVERY == 0:
            self._sweep(now)
        return verdict

    def _sweep(self, now_ms: int) -> None:
        self._states = {k: v for k, v in self._states.items() if v[1] > now_ms}

    def __len__(self) -> int:
        """Buckets held, expired ones not yet swept included."""
        return len(self._states)
