"""The broadcast worker: sends RUNNING broadcasts from their durable cursor.

Runs in every bot instance under one PostgreSQL advisory-lock lease
(`jobs.periodic.run_periodically` with `BROADCAST_LEASE`), so one instance sends and
Telegram's bulk limit (about 30 messages a second per bot) is shared by no one; when
the holder dies its database session ends, the lock is free, and another instance
resumes within `POLL_SECONDS`.

Delivery guarantee (Telegram's sendMessage has no idempotency key): at most once per
recipient, and every recipient ends in exactly one of SENT, BLOCKED, FAILED or UNKNOWN.
A batch of recipients is claimed (PENDING → SENDING) in a committed transaction before
any request, and their outcomes are committed after the batch. A worker killed between
the two leaves that batch SENDING; the next lease holder makes them UNKNOWN and never
sends to them again (maybe delivered, maybe not: counted apart). So after `kill -9` there
is no duplicate, and no recipient is skipped but at most one batch (`batch_size`, one
second of sending at the default). A worker cancelled in the middle of a batch (a
graceful stop) records what it knows: outcomes received, and recipients whose request
had not started go back to PENDING; only requests really in flight become UNKNOWN.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)

from shopbot.bot.broadcast import Clock, Pacer, Sleep
from shopbot.bot.broadcast_content import progress_keyboard, progress_text, send_content
from shopbot.bot.texts import Texts
from shopbot.domain.broadcasts.models import (
    Broadcast,
    BroadcastContent,
    BroadcastStatus,
    RecipientState,
)
from shopbot.domain.broadcasts.ports import Outcome
from shopbot.domain.uow import UnitOfWorkFactory
from shopbot.observability.metrics import BROADCAST_MESSAGES

log = logging.getLogger(__name__)

BROADCAST_LEASE = "broadcast-worker"
"""The advisory lock's name (`persistence.locks.lock_key`)."""
POLL_SECONDS = 2.0
"""How often every instance tries the lease and looks for RUNNING broadcasts."""
PROGRESS_SECONDS = 4.0
"""Between edits of the admin's progress message: Telegram allows about one edit a
second in a chat before answering 429, and the edits share the bot's rate."""


def _now() -> datetime:
    return datetime.now(UTC)


class BroadcastWorker:
    """Sends what the database says is RUNNING. `drain` is the job run under the lease.

    `rate`: messages a second at most, progress edits and retries included
    (BROADCAST_PER_SECOND); `batch_size`: recipients claimed at a time (default `rate`:
    one second of sending, the most a crash can leave UNKNOWN); `max_attempts`: requests
    per recipient while Telegram answers 429, then FAILED. Clock and sleep are injectable
    for tests."""

    def __init__(
        self,
        bot: Bot,
        uows: UnitOfWorkFactory,
        *,
        rate: int,
        batch_size: int | None = None,
        max_attempts: int = 5,
        progress_every: float = PROGRESS_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.bot = bot
        self.uows = uows
        self.rate = rate
        self.pacer = Pacer(rate, clock, sleep)
        self.batch_size = batch_size or rate
        self.max_attempts = max_attempts
        self.progress_every = progress_every
        self._clock = clock
        self._now = now

    async def drain(self) -> int:
        """Send every RUNNING broadcast, oldest first, until none is left (a new one
        confirmed meanwhile included); returns how many it saw through. Call only while
        holding the lease: it first turns claims left SENDING into UNKNOWN."""
        async with self.uows() as uow:
            abandoned = await uow.broadcasts.abandon_in_flight()
            await uow.commit()
        if abandoned:
            log.warning("broadcast: %s recipients left in flight by a dead worker", abandoned)
        finished = 0
        while True:
            async with self.uows() as uow:
                running = await uow.broadcasts.running()
            if not running:
                return finished
            await self.send(running[0])
            finished += 1

    async def send(self, broadcast: Broadcast) -> None:
        """Batch after batch until no recipient is PENDING or an admin cancelled it; the
        progress message is edited every `progress_every` seconds and once at the end."""
        log.info("broadcast %s: sending to %s recipients", broadcast.id, broadcast.total)
        async with self.uows() as uow:
            await uow.broadcasts.mark_started(broadcast.id, self._now())
            await uow.commit()
        shown_at = float("-inf")
        while True:
            async with self.uows() as uow:
                current = await uow.broadcasts.get(broadcast.id)
                if current is None or current.status is not BroadcastStatus.RUNNING:
                    break
                user_ids = await uow.broadcasts.claim(broadcast.id, self.batch_size)
                if not user_ids:
                    await uow.broadcasts.finish(broadcast.id, self._now())
                await uow.commit()
            if not user_ids:
                break
            await self._send_batch(broadcast.id, broadcast.content, user_ids)
            if self._clock() - shown_at >= self.progress_every:
                await self.show_progress(broadcast.id)
                shown_at = self._clock()
        await self.show_progress(broadcast.id)
        log.info("broadcast %s: stopped sending", broadcast.id)

    async def _send_batch(
        self, broadcast_id: int, content: BroadcastContent, user_ids: list[int]
    ) -> None:
        in_flight: set[int] = set()
        outcomes: dict[int, Outcome] = {}

        async def deliver(user_id: int) -> None:
            outcomes[user_id] = await self._deliver(content, user_id, in_flight)

        try:
            await asyncio.gather(*(deliver(user_id) for user_id in user_ids))
        except asyncio.CancelledError:
            # A graceful stop: what is known is recorded; requests really in flight stay
            # SENDING and become UNKNOWN for the next holder.
            waiting = [u for u in user_ids if u not in in_flight and u not in outcomes]
            await self._record(broadcast_id, list(outcomes.values()), waiting)
            raise
        await self._record(broadcast_id, list(outcomes.values()), [])

    async def _record(
        self, broadcast_id: int, outcomes: list[Outcome], not_started: list[int]
    ) -> None:
        blocked = [o.user_id for o in outcomes if o.state is RecipientState.BLOCKED]
        async with self.uows() as uow:
            await uow.broadcasts.record(broadcast_id, outcomes, self._now())
            await uow.broadcasts.release(broadcast_id, not_started)
            await uow.users.mark_unreachable(blocked, self._now())
            await uow.commit()

    async def _deliver(
        self, content: BroadcastContent, user_id: int, in_flight: set[int]
    ) -> Outcome:
        """One recipient, in `in_flight` while a request for it may have reached Telegram
        (a cancelled task must leave it there: it may have been delivered). A 429 pauses
        every send for `retry_after` (Bot API: the request was refused, so retrying
        cannot duplicate) and the same recipient is retried."""
        attempts = 0
        while attempts < self.max_attempts:
            await self.pacer.acquire()
            attempts += 1
            in_flight.add(user_id)
            try:
                await send_content(self.bot, user_id, content)
            except TelegramRetryAfter as exc:  # refused, so not delivered: no longer in flight
                in_flight.discard(user_id)
                self.pacer.pause(exc.retry_after)
                continue
            except TelegramForbiddenError:
                BROADCAST_MESSAGES.labels("blocked").inc()
                return Outcome(user_id, RecipientState.BLOCKED, attempts)
            except TelegramAPIError as exc:  # 400 chat not found, 5xx, network, ...
                BROADCAST_MESSAGES.labels("failed").inc()
                log.warning("broadcast to %s failed: %s", user_id, exc)
                return Outcome(user_id, RecipientState.FAILED, attempts)
            except Exception:  # one user's surprise must not stop the broadcast
                BROADCAST_MESSAGES.labels("failed").inc()
                log.exception("broadcast to %s failed", user_id)
                return Outcome(user_id, RecipientState.FAILED, attempts)
            BROADCAST_MESSAGES.labels("sent").inc()
            return Outcome(user_id, RecipientState.SENT, attempts)
        BROADCAST_MESSAGES.labels("failed").inc()
        log.warning("broadcast to %s still rate-limited after %s attempts", user_id, attempts)
        return Outcome(user_id, RecipientState.FAILED, attempts)

    async def show_progress(self, broadcast_id: int) -> None:
        """Edit the admin's progress message to the current counts (a courtesy: a
        refusal is logged, never raised; a 429 pauses the pacer)."""
        async with self.uows() as uow:
            broadcast = await uow.broadcasts.get(broadcast_id)
            if broadcast is None or broadcast.progress_message_id is None:
                return
            progress = await uow.broadcasts.progress(broadcast_id)
            admin = await uow.users.get(broadcast.created_by)
        assert broadcast.progress_chat_id is not None
        t = Texts(admin.language if admin else "")
        await self.pacer.acquire()
        try:
            await self.bot.edit_message_text(
                progress_text(t, broadcast_id, broadcast.status, progress, self.rate),
                chat_id=broadcast.progress_chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=progress_keyboard(t, broadcast_id, broadcast.status),
            )
        except TelegramRetryAfter as exc:
            self.pacer.pause(exc.retry_after)
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.info("broadcast %s: progress not shown: %s", broadcast_id, exc)
        except TelegramAPIError as exc:
            log.info("broadcast %s: progress not shown: %s", broadcast_id, exc)
