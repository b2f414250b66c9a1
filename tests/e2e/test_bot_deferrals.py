"""Updates put off on purpose (bot/deferrals.py), in webhook mode on Redis: an update
another instance is handling is answered 409, not a failure's 500, is counted as
deferred rather than as an error, leaves no error with a traceback in the log, and is
handled once on Telegram's redelivery after the other instance's claim lapses."""

import logging

import pytest
from redis.asyncio import Redis

from shopbot.bot.texts import Texts
from tests.e2e.bot_stack import BOT_ID, bot_stack
from tests.e2e.test_bot_customer import plain
from tests.e2e.test_bot_rate_limits import fresh_id
from tests.metrics_scrape import registry_total

EN = Texts("en")
# A Redis database of its own (as test_bot_rate_limits does for the global limit): the
# emulator numbers updates from 1 for the same bot id, so update markers left by another
# test on a shared database would mark this one's updates done.
REDIS_URL = "redis://127.0.0.1:6379/11"


def deferred_updates() -> float:
    return registry_total("shopbot_updates_total", outcome="deferred")


async def test_an_update_another_instance_holds_is_answered_409_and_handled_once(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Redis.from_url(REDIS_URL) as redis:
        await redis.flushdb()
        # Another instance's claim on the first update, lapsing in 2 s as a dead holder's
        # would (bot/middlewares/dedupe.py).
        await redis.set(f"shopbot:update:{BOT_ID}:1", "busy:another-instance", px=2000)
    before = deferred_updates()
    caplog.set_level(logging.INFO)
    async with bot_stack(pg_url, mode="webhook", redis_url=REDIS_URL) as stack:
        user = stack.user(fresh_id(), "Held")
        user.emulator.send_text(user.id, "/help")
        await stack.emulator.wait_for(
            lambda: plain(EN("help.text")) in user.bot_texts(), timeout=30
        )
        await stack.idle()
        attempts = [d for d in stack.emulator.deliveries() if d["update_id"] == 1]

    assert [d.get("status") for d in attempts if not d.get("ok")][:1] == [409]
    assert [d["ok"] for d in attempts][-1] is True
    assert sum(1 for d in attempts if d["ok"]) == 1
    assert user.bot_texts() == [plain(EN("help.text"))]  # handled once
    assert deferred_updates() > before
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("handled by another instance" in r.getMessage() for r in caplog.records)
