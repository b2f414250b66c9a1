"""At most one successful handling of each update across all instances.

Telegram redelivers an update whose webhook answer was not 2xx; handlers are idempotent
anyway (money moves under database keys), this also spares users duplicate messages.

The claim holds a nonce of this handling: a SET NX retried through a Redis failover
(bot/redis_failover.py) may find its own first attempt applied, and must not take it
for another instance's.

The claim is a lease: it lapses BUSY_TTL seconds after its holder stops renewing it, and
the holder renews it at least every RENEW_EVERY seconds while the handler runs. An
instance killed in the middle of an update (SIGKILL, out of memory) therefore blocks
Telegram's redelivery of that update for at most BUSY_TTL, not for as long as a slow
handler may take; the failure drill found the update dropped when the claim outlived
Telegram's retries (tests/docker/live/drills.py).

On a single Redis server the claim, the user's rate-limit token and the user's FSM
state are one script (bot/update_claim.py: no token is taken and nothing is read for an
update that is not claimed, as when the middlewares inside this one ask for them); the
token's verdict goes to `RateLimitMiddleware` (`TAKEN`), the state to the handlers
(`raw_state`, middlewares/state.py). On a cluster the keys lie in different slots, so
the claim is a SET NX of its own there, as in memory, and the others ask for theirs.

One renewer per middleware (so per process) renews every claim in flight: every
RENEW_EVERY seconds it starts one renewal per claim held at that moment (a claim whose
last renewal is still retrying through a failover is skipped, as a holder's own loop
would have waited for it), and it ends once a tick finds no claim held. An update
therefore costs a dictionary entry, not an asyncio task created and cancelled
(bench/dispatch.py); a claim is renewed at most RENEW_EVERY seconds after it was taken,
as before.
"""

import asyncio
import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from shopbot.bot.coordination import Coordination, RedisCoordination
from shopbot.bot.deferrals import UpdateDeferred
from shopbot.bot.middlewares.rate_limit import TAKEN, limited_sender
from shopbot.bot.middlewares.state import RAW_STATE, STATE
from shopbot.bot.rate_limits.buckets import Bucket
from shopbot.bot.rate_limits.limiter import RateLimiter
from shopbot.bot.rate_limits.redis_buckets import RedisTokenBuckets
from shopbot.bot.update_claim import Held, RedisUpdateClaim

log = logging.getLogger(__name__)

DONE_TTL = 24 * 3600  # Telegram keeps undelivered updates for 24 hours
BUSY_TTL = 15
"""Seconds a dead holder's claim blocks its update. Telegram gives up on an update after
some failed deliveries (the emulator: 8 attempts in about 23 s, 0.2 s doubling to 10 s),
so the claim must lapse well within that."""
RENEW_EVERY = 5
"""Seconds between renewals of a live holder's claim: two renewals may fail (Redis beyond
its failover window) before the claim lapses."""


class UpdateInProgress(UpdateDeferred):
    """Another instance is handling this update right now; answer non-2xx (409 in webhook
    mode, bot/runtime.py), retry later."""


class UpdateDedupeMiddleware(BaseMiddleware):
    def __init__(
        self,
        coordination: Coordination,
        *,
        limiter: RateLimiter | None = None,
        busy_ttl: int = BUSY_TTL,
        renew_every: float = RENEW_EVERY,
    ) -> None:
        """`limiter`: the rate limiter of the `RateLimitMiddleware` inside this one;
        its user tokens are taken with the claim when both live on one Redis server."""
        self.coordination = coordination
        self.limiter = limiter
        self.busy_ttl, self.renew_every = busy_ttl, renew_every
        client = coordination.client if isinstance(coordination, RedisCoordination) else None
        self._script = RedisUpdateClaim(client) if isinstance(client, Redis) else None
        """The script that claims an update on a single server (None on a cluster, in
        memory)."""
        store = limiter.store if limiter is not None else None
        self._tokens_here = isinstance(store, RedisTokenBuckets) and store.client is client
        """The limiter's buckets live where the claims do (the script may take tokens)."""
        self._held: dict[str, str] = {}
        """key -> claim of each update this middleware is handling now."""
        self._renewer: asyncio.Task[None] | None = None
        self._renewing: dict[str, asyncio.Task[None]] = {}
        """key -> its renewal under way (held here: the loop keeps only weak references)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = f"shopbot:update:{data['bot'].id}:{event.update_id}"
        claim = f"busy:{secrets.token_hex(8)}"
        claimed, held = await self._claim(key, claim, event, data)
        if not claimed:
            if held == "done":
                return None
            if held != claim:  # not this handling's own SET, applied before a retry
                raise UpdateInProgress(event.update_id)
        self._hold(key, claim)
        try:
            result = await handler(event, data)
        except BaseException:
            self._held.pop(key, None)
            # Only this handling's claim: had it lapsed (renewals failing for BUSY_TTL),
            # the key may be another instance's claim or its "done" by now.
            await self.coordination.delete_if_held(key, claim)
            raise
        self._held.pop(key, None)
        await self.coordination.set(key, "done", DONE_TTL)
        return result

    async def _claim(
        self, key: str, claim: str, event: Update, data: dict[str, Any]
    ) -> tuple[bool, str | None]:
        """(True, None) when this handling took the claim, else (False, the value held
        then, None if it lapsed meanwhile). With the script, also takes the user's token
        (its verdict in `data[TAKEN]`) and reads the state (`data[RAW_STATE]`) where
        they live on the same server."""
        if self._script is None:
            if await self.coordination.set_if_absent(key, claim, self.busy_ttl):
                return True, None
            return False, await self.coordination.get(key)
        token = self._token(event, data)
        state_key = self._state_key(data)
        answer = await self._script.claim(
            key, claim, self.busy_ttl, token=token, state_key=state_key
        )
        if isinstance(answer, Held):
            return False, answer.value
        if answer.verdict is not None:
            data[TAKEN] = answer.verdict
        if state_key is not None:
            data[RAW_STATE] = answer.state
        return True, None

    def _token(self, event: Update, data: dict[str, Any]) -> tuple[str, Bucket] | None:
        """The key and bucket of the token `RateLimitMiddleware` would take first."""
        if not self._tokens_here or self.limiter is None:
            return None
        request = limited_sender(event, data)
        return self.limiter.own_bucket(*request) if request is not None else None

    def _state_key(self, data: dict[str, Any]) -> str | None:
        """The Redis key of the update's FSM state, when it lives on this server."""
        context = data.get(STATE)
        if not isinstance(context, FSMContext) or RAW_STATE in data:
            return None
        storage = context.storage
        if not isinstance(storage, RedisStorage) or self._script is None:
            return None
        if storage.redis is not self._script.client:
            return None
        return storage.key_builder.build(context.key, "state")

    def _hold(self, key: str, claim: str) -> None:
        """Puts the claim under renewal, starting the renewer if none runs."""
        self._held[key] = claim
        if self._renewer is None or self._renewer.done():
            # A context of its own: not the log context (update_id) of the update that
            # happened to start it; its warnings name the claim's key.
            renewer = self._renew_held()
            self._renewer = asyncio.create_task(renewer, context=contextvars.Context())

    async def _renew_held(self) -> None:
        """Every `renew_every` seconds, starts a renewal of each claim held; returns once
        none is (the next claim starts a new renewer). A renewal racing the end of its
        update is harmless: renewing and releasing both check the claim in one atomic
        step, so a claim released meanwhile (deleted, or "done") is left alone."""
        while self._held:
            await asyncio.sleep(self.renew_every)
            for key, claim in list(self._held.items()):
                if key not in self._renewing:
                    self._renewing[key] = asyncio.create_task(self._renew(key, claim))

    async def _renew(self, key: str, claim: str) -> None:
        try:
            renewed = await self.coordination.extend_if_held(key, claim, self.busy_ttl)
            if not renewed and self._held.get(key) == claim:  # not merely released meanwhile
                log.warning("the claim on %s lapsed while its update was handled", key)
                del self._held[key]  # not this handling's any more: renew no longer
        except Exception:  # Redis beyond its failover window: the next renewal may do
            log.warning("could not renew the claim on %s", key, exc_info=True)
        finally:
            del self._renewing[key]
