"""A message to every reachable user, within Telegram's limits.

Telegram allows about 30 messages per second in bulk and answers 429 with
`retry_after` beyond that; aiogram raises `TelegramRetryAfter` and does not retry. The
broadcaster therefore paces itself (at most `rate` requests in any one-second window,
retries included), and on a 429 pauses every send for `retry_after` seconds before it
retries the same user. A user who blocked the bot (403) is marked unreachable in the
database and skipped by later broadcasts until they write to the bot again.

A plain class, usable outside handlers (a CLI command, a job); its clock and sleep are
injectable so tests can check the pacing without waiting.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter

from shopbot.domain.uow import UnitOfWorkFactory
from shopbot.observability.metrics import BROADCAST_MESSAGES

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class BroadcastReport:
    sent: int = 0
    unreachable: int = 0
    """Telegram refused with 403 (the user blocked the bot or is deactivated)."""
    failed: int = 0
    """Any other error, or still rate-limited after `max_attempts`."""
    rate_limited: int = 0
    """429 answers honoured (each followed by a retry after `retry_after`)."""

    @property
    def total(self) -> int:
        return self.sent + self.unreachable + self.failed


class Pacer:
    """At most `rate` acquisitions in any window of one second of `clock`, and none
    while paused (after a 429)."""

    def __init__(self, rate: int, clock: Clock, sleep: Sleep) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 per second")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._window: deque[float] = deque()
        self._paused_until = float("-inf")

    async def acquire(self) -> None:
        while True:
            now = self._clock()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) < self.rate:
                self._window.append(now)  # no await since the check: the slot is ours
                return
            await self._sleep(self._window[0] + 1.0 - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


class Broadcaster:
    """Sends one text to every reachable user, page by page. Takes a unit-of-work
    factory, not an update's unit of work: it runs in the background for minutes, reads
    each page and records unreachable users in short transactions of its own, and never
    holds one open across the network calls to Telegram."""

    def __init__(
        self,
        bot: Bot,
        uows: UnitOfWorkFactory,
        *,
        rate: int,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        page_size: int = 500,
        max_attempts: int = 5,
        max_in_flight: int | None = None,
        on_page: Callable[[BroadcastReport], Awaitable[None]] | None = None,
    ) -> None:
        self.bot = bot
        self.uows = uows
        self.pacer = Pacer(rate, clock, sleep)
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.max_in_flight = max_in_flight or rate
        self.on_page = on_page
        """Called after every page of users (e.g. to renew a lease or report progress)."""

    async def send(self, text: str) -> BroadcastReport:
        """Send `text` (HTML, the bot's default parse mode) to every reachable user."""
        report = BroadcastReport()
        slots = asyncio.Semaphore(self.max_in_flight)
        tasks: set[asyncio.Task[None]] = set()
        unreachable: list[int] = []
        after_id = 0
        while True:
            async with self.uows() as uow:
                page = await uow.users.reachable_ids(after_id=after_id, limit=self.page_size)
            if not page:
                break
            for user_id in page:
                await slots.acquire()
                task = asyncio.create_task(self._deliver(user_id, text, report, unreachable))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda _: slots.release())
            after_id = page[-1]
            await self._mark_unreachable(unreachable)
            if self.on_page is not None:
                await self.on_page(report)
        if tasks:
            await asyncio.gather(*tasks)
        await self._mark_unreachable(unreachable)
        log.info(
            "broadcast done: sent %s, unreachable %s, failed %s, 429s honoured %s",
            report.sent,
            report.unreachable,
            report.failed,
            report.rate_limited,
        )
        return report

    async def _deliver(
        self, user_id: int, text: str, report: BroadcastReport, unreachable: list[int]
    ) -> None:
        """One user. Every attempt takes a slot of the pacer right before its request."""
        for _ in range(self.max_attempts):
            await self.pacer.acquire()
            try:
                await self.bot.send_message(user_id, text)
            except TelegramRetryAfter as exc:
                report.rate_limited += 1
                self.pacer.pause(exc.retry_after)
                continue
            except TelegramForbiddenError:
                BROADCAST_MESSAGES.labels("blocked").inc()
                report.unreachable += 1
                unreachable.append(user_id)
                return
            except TelegramAPIError as exc:  # 400 chat not found, 5xx, network, ...
                BROADCAST_MESSAGES.labels("failed").inc()
                report.failed += 1
                log.warning("broadcast to %s failed: %s", user_id, exc)
                return
            except Exception:  # one user's surprise must not stop the broadcast
                BROADCAST_MESSAGES.labels("failed").inc()
                report.failed += 1
                log.exception("broadcast to %s failed", user_id)
                return
            BROADCAST_MESSAGES.labels("sent").inc()
            report.sent += 1
            return
        BROADCAST_MESSAGES.labels("failed").inc()
        report.failed += 1
        log.warning(
            "broadcast to %s still rate-limited after %s attempts", user_id, self.max_attempts
        )

    async def _mark_unreachable(self, user_ids: list[int]) -> None:
        if not user_ids:
            return
        batch = list(user_ids)
        user_ids.clear()
        async with self.uows() as uow:
            await uow.users.mark_unreachable(batch, datetime.now(UTC))
            await uow.commit()
