"""The shop's rate limits on top of token buckets (`buckets.py`).

Per user and category, from the settings (0 turns one off):

| category | what counts | refilled per 60 s by |
|---|---|---|
| message | a message update from the user | RATE_LIMIT_MESSAGES_PER_MINUTE |
| operation | a callback query (a button press) | RATE_LIMIT_OPERATIONS_PER_MINUTE |
| payment | starting a Heleket or Stars invoice | RATE_LIMIT_PAYMENTS_PER_MINUTE |

each bucket holding the limit plus RATE_LIMIT_BURST (what a user may spend at once); and
one bucket for all users together, RATE_LIMIT_GLOBAL_PER_SECOND per second with no
burst: Telegram lets a bot send about 30 messages per second (Bot API FAQ, "My bot is
hitting limits"), and nearly every update the bot handles sends one. The user's own
bucket is asked first, so a flooding user's refused requests never use up the others'
global budget. Admins (ADMIN_IDS) are never limited.

Keys: `<prefix>:{<user id>}:<category>` (the hash tag keeps one user's buckets in one
Redis Cluster slot) and `<prefix>:{global}` (a slot of its own).
"""

from dataclasses import dataclass
from enum import StrEnum

from shopbot.bot.rate_limits.buckets import Bucket, TokenBuckets, Verdict
from shopbot.config import Settings
from shopbot.observability.metrics import RATE_LIMITED

PREFIX = "shopbot:rl"
MINUTE_MS = 60_000
SECOND_MS = 1_000


class Category(StrEnum):
    """Also the `category` label of `shopbot_rate_limited_total` ("global" for a refusal
    by the limit across all users)."""

    MESSAGE = "message"
    OPERATION = "operation"
    PAYMENT = "payment"
    GLOBAL = "global"


GLOBAL_NOTICE = Bucket(capacity=1, refill=1, period_ms=MINUTE_MS)
"""A user refused by the global limit is told at most once a minute."""


@dataclass(frozen=True)
class Limited:
    """A refused request: by which limit, when to try again (whole seconds, ≥ 1), and
    whether to tell the user (the first refusal of a notice window)."""

    category: Category
    retry_after_seconds: int
    notify: bool


def per_minute(limit: int, burst: int) -> Bucket | None:
    return Bucket(limit + burst, limit, MINUTE_MS) if limit > 0 else None


def buckets_from(settings: Settings) -> dict[Category, Bucket | None]:
    """Each category's bucket from the settings; None where the limit is 0 (off)."""
    burst = settings.rate_limit_burst
    per_second = settings.rate_limit_global_per_second
    return {
        Category.MESSAGE: per_minute(settings.rate_limit_messages_per_minute, burst),
        Category.OPERATION: per_minute(settings.rate_limit_operations_per_minute, burst),
        Category.PAYMENT: per_minute(settings.rate_limit_payments_per_minute, burst),
        Category.GLOBAL: Bucket(per_second, per_second, SECOND_MS) if per_second > 0 else None,
    }


class RateLimiter:
    def __init__(
        self,
        store: TokenBuckets,
        buckets: dict[Category, Bucket | None],
        admin_ids: frozenset[int],
        *,
        prefix: str = PREFIX,
    ) -> None:
        """`store`: Redis or memory; `buckets`: `buckets_from(settings)` or a test's own;
        `prefix`: of every key (tests use one of their own)."""
        self.store = store
        self.buckets = buckets
        self.admin_ids = admin_ids
        self.prefix = prefix

    def user_key(self, user_id: int, category: Category) -> str:
        return f"{self.prefix}:{{{user_id}}}:{category.value}"

    @property
    def global_key(self) -> str:
        return f"{self.prefix}:{{global}}"

    def own_bucket(self, user_id: int, category: Category) -> tuple[str, Bucket] | None:
        """The key and bucket of the token `check` takes first for `user_id` and
        `category`; None when it takes none (an admin, or the limit is off)."""
        if user_id in self.admin_ids:
            return None
        own = self.buckets.get(category)
        return None if own is None else (self.user_key(user_id, category), own)

    async def check(
        self,
        user_id: int,
        category: Category,
        *,
        taken: Verdict | None = None,
        now_ms: int | None = None,
    ) -> Limited | None:
        """Take one request of `category` (message, operation or payment) for `user_id`:
        None when allowed, else why not. Messages and operations also count against the
        global limit; payments were counted there as the press that started them.
        Counts refusals in `shopbot_rate_limited_total`. Never raises for a store
        outage (the Redis store allows and logs). `taken`: the verdict of the token
        from `own_bucket`, when the caller took it already (with the update's claim,
        `RedisTokenBuckets.claim_and_take`); `now_ms`: for tests."""
        if user_id in self.admin_ids:
            return None
        own = self.buckets.get(category)
        if own is not None:
            verdict = taken
            if verdict is None:
                key = self.user_key(user_id, category)
                verdict = await self.store.take(key, own, now_ms=now_ms)
            if not verdict.allowed:
                return self._refused(category, verdict, verdict.notify)
        shared = self.buckets.get(Category.GLOBAL)
        if shared is None or category is Category.PAYMENT:
            return None
        verdict = await self.store.take(self.global_key, shared, now_ms=now_ms)
        if verdict.allowed:
            return None
        notice_key = self.user_key(user_id, Category.GLOBAL)
        told = await self.store.take(notice_key, GLOBAL_NOTICE, now_ms=now_ms)
        return self._refused(Category.GLOBAL, verdict, told.allowed)

    def _refused(self, category: Category, verdict: Verdict, notify: bool) -> Limited:
        RATE_LIMITED.labels(category.value).inc()
        return Limited(category, verdict.retry_after_seconds, notify)
