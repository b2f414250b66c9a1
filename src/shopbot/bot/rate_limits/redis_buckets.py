"""Token buckets in Redis: each check is one Lua script (EVALSHA through redis-py's
`register_script`), so concurrent checks from any number of bot instances cannot both
take the last token. The script runs the steps of `buckets.take_token` on the same
integers.

- Time is the server's (`TIME` inside the script), so instances whose clocks disagree
  still agree on every bucket. Tests may pass a fixed `now_ms` instead.
- A script touches one key, a hash (`u` units, `a` last update in ms, `n` end of the
  notice window in ms) that expires once the bucket is full again and its notice
  window is over, so idle users leave nothing behind. Callers put a hash tag in keys
  that must share a cluster slot (`limiter.user_key`).
- Redis unreachable or failing: the check allows the request and logs a warning. Rate
  limiting protects the shop; an outage of it must not turn every customer away.
- `TAKE` is also part of the script that claims an update (bot/update_claim.py).
"""

import logging

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from shopbot.bot.rate_limits.buckets import ALLOWED, Bucket, Verdict

log = logging.getLogger(__name__)

TAKE = """
local function take(key, capacity, refill, period, now)
  local full = capacity * period
  local state = redis.call('HMGET', key, 'u', 'a', 'n')
  local units = tonumber(state[1]) or full
  local at = tonumber(state[2]) or now
  local noticed = tonumber(state[3]) or 0
  if now > at then
    units = math.min(full, units + math.min(now - at, full) * refill)
    at = now
  end
  local allowed, retry, notify = 0, 0, 0
  if units >= period then
    units = units - period
    allowed = 1
  else
    retry = math.ceil((period - units) / refill)
    if now >= noticed then
      notify = 1
      noticed = now + period
    end
  end
  redis.call('HSET', key, 'u', units, 'a', at, 'n', noticed)
  local ttl = math.max(math.ceil((full - units) / refill), noticed - now, 1)
  redis.call('PEXPIRE', key, ttl)
  return {allowed, retry, notify}
end
local function server_ms(given)
  local now = tonumber(given)
  if now then return now end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""
"""`take(key, capacity, refill, period_ms, now_ms)`: the steps of `buckets.take_token`
on the hash at `key`, returning {allowed, retry_ms, notify} as 0/1 integers."""

BUCKET_SCRIPT = (
    TAKE
    + """
local now = server_ms(ARGV[4])
return take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), now)
"""
)


class RedisTokenBuckets:
    """Token buckets on a Redis server or cluster (the coordination client)."""

    def __init__(self, client: "Redis | RedisCluster") -> None:
        self.client = client
        self._script = client.register_script(BUCKET_SCRIPT)

    async def take(self, key: str, bucket: Bucket, *, now_ms: int | None = None) -> Verdict:
        """One token from the bucket at `key`, atomically; ALLOWED (with a warning
        logged) when Redis cannot be asked."""
        args = [bucket.capacity, bucket.refill, bucket.period_ms, "" if now_ms is None else now_ms]
        try:
            allowed, retry, notify = await self._script(keys=[key], args=args)
        except (RedisError, OSError) as error:
            log.warning("rate limit not checked, request allowed (Redis failed): %s", error)
            return ALLOWED
        return Verdict(bool(allowed), int(retry), bool(notify))
