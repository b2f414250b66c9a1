"""One Lua script that claims an update for its handling (bot/middlewares/dedupe.py) and,
only when it claimed it, takes the user's rate-limit token (bot/rate_limits/) and reads
the user's FSM state (aiogram's RedisStorage): one round trip instead of three
(bench/dispatch.py counts the shop's Redis calls per update).

Only on a single Redis server: a script may touch only the keys of one cluster slot, and
the claim (`shopbot:update:<bot>:<update_id>`), the bucket (`shopbot:rl:{<user>}:...`)
and aiogram's state key (`fsm:...`) lie in different slots. On a cluster the middlewares
make the calls one by one, as without this script.

The steps are those of the separate calls, in the same order, atomically: SET NX of the
claim; when it was set, the token (the steps of `buckets.take_token`, `TAKE`) and a GET
of the state. An update that is not claimed takes no token and reads nothing, as when
the rate limit and the state are asked for inside the de-duplication.
"""

from dataclasses import dataclass

from redis.asyncio import Redis

from shopbot.bot.rate_limits.buckets import Bucket, Verdict
from shopbot.bot.rate_limits.redis_buckets import TAKE

CLAIM_SCRIPT = (
    TAKE
    + """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return {0, redis.call('GET', KEYS[1]) or ''}
end
local k = 2
local allowed, retry, notify = 1, 0, 0
if ARGV[3] == '1' then
  local now = server_ms(ARGV[8])
  local v = take(KEYS[k], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), now)
  allowed, retry, notify = v[1], v[2], v[3]
  k = k + 1
end
local state = false
if ARGV[4] == '1' then
  state = redis.call('GET', KEYS[k])
end
if state then
  return {1, allowed, retry, notify, state}
end
return {1, allowed, retry, notify}
"""
)
"""KEYS: the claim, then the bucket if ARGV[3] is '1', then the state key if ARGV[4] is
'1'. ARGV: claim value, claim TTL in seconds, the two flags, then the bucket's capacity,
refill, period in ms and now in ms ('' for the server's TIME). Answers {0, value held}
when the key was held (nothing else done), else {1, allowed, retry_ms, notify[,
state]} (allowed 1 when no token was asked for; no state when none was read or none is
set)."""


@dataclass(frozen=True)
class Claimed:
    """The script's answer when it set the claim: the token's verdict (None when none
    was asked for) and the state read (None when none is set or none was asked for)."""

    verdict: Verdict | None
    state: str | None


@dataclass(frozen=True)
class Held:
    """The script's answer when the key was held already: its value ("done", a claim)."""

    value: str


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisUpdateClaim:
    """The script on a single Redis server's client (the coordination's)."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._script = client.register_script(CLAIM_SCRIPT)

    async def claim(
        self,
        key: str,
        claim: str,
        ttl_seconds: int,
        *,
        token: tuple[str, Bucket] | None = None,
        state_key: str | None = None,
        now_ms: int | None = None,
    ) -> Claimed | Held:
        """SET `key` to `claim` if absent (expiring after `ttl_seconds`); only if it was
        set, one token from the bucket `token` (key, bucket) and a GET of `state_key`.
        Raises RedisError or OSError when Redis cannot be asked: the claim failed, and
        fails the update as a failed SET NX would (the rate limit's own calls allow a
        request when Redis fails; here nothing was decided). `now_ms`: for tests."""
        keys = [key]
        args: list[str | int] = [claim, ttl_seconds, "0", "0", 0, 0, 0, ""]
        if token is not None:
            token_key, bucket = token
            keys.append(token_key)
            args[2] = "1"
            args[4:8] = [
                bucket.capacity,
                bucket.refill,
                bucket.period_ms,
                "" if now_ms is None else now_ms,
            ]
        if state_key is not None:
            keys.append(state_key)
            args[3] = "1"
        answer = await self._script(keys=keys, args=args)
        if not answer[0]:
            return Held(_text(answer[1]))
        allowed, retry, notify = answer[1:4]
        verdict = Verdict(bool(allowed), int(retry), bool(notify)) if token else None
        return Claimed(verdict, _text(answer[4]) if len(answer) > 4 else None)
