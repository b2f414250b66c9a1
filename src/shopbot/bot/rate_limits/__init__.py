"""Rate limiting: token buckets in Redis (one Lua script per check) or in memory, the
limiter that applies the shop's categories to them, and the notice a limited user gets.
docs/bot.md#rate-limits describes the behaviour."""
