"""Pacing bulk sends within Telegram's limits.

Telegram allows about 30 messages per second in bulk and answers 429 with
`retry_after` beyond that; aiogram raises `TelegramRetryAfter` and does not retry. The
broadcast worker (`broadcast_worker.py`) therefore paces itself with a `Pacer` (at most
`rate` requests in any one-second window, 1/`rate` seconds apart, retries included) and
on a 429 pauses every send for `retry_after` seconds. Clock and sleep are injectable so
tests can check the pacing without waiting.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """At most `rate` acquisitions in any window of one second of `clock`, at least
    1/`rate` seconds apart, and none while paused (after a 429).

    The spacing matters: without it a second's whole budget goes out at once when the
    window slides, and requests of one burst reach Telegram later than the next burst's
    first ones (the event loop sends them one by one), so a sliding one-second count on
    Telegram's side sees more than `rate`: at 25/s against a 30/s limit bench/broadcast.py
    saw 27 and 39 answers 429 in 600 sends (two runs), each pausing everything for a
    second (docs/performance.md, "Scale-out — issue 13")."""

    def __init__(self, rate: int, clock: Clock, sleep: Sleep) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 per second")
        self.rate = rate
        self._gap = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._window: deque[float] = deque()
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        # One acquirer waits for a slot at a time, the others on the lock (in order):
        # a whole batch waiting on the clock would wake together at every slot.
        async with self._lock:
            await self._wait_for_slot()

    async def _wait_for_slot(self) -> None:
        while True:
            now = self._clock()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate:
                await self._sleep(self._window[0] + 1.0 - now)
                continue
            if self._window and now < self._window[-1] + self._gap:
                await self._sleep(self._window[-1] + self._gap - now)
                continue
            self._window.append(now)  # no await since the checks: the slot is ours
            return

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)
