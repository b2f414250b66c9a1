"""Rate limits through the real bot (aiogram Dispatcher, the Telegram emulator): a
flooding user's messages reach the handlers `limit + burst` times and get one notice;
button presses past their limit are answered with the notice as a toast; payment
attempts past theirs send no invoice; admins are never limited. Polling mode keeps the
buckets in memory, webhook mode in Redis (user ids drawn per run: buckets outlive a
test by up to a minute)."""

import logging
import random
import re
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from shopbot.bot.middlewares.dedupe import UpdateDedupeMiddleware
from shopbot.bot.middlewares.private_chats import PrivateChatsOnly
from shopbot.bot.middlewares.rate_limit import RateLimitMiddleware
from shopbot.bot.middlewares.unit_of_work import UnitOfWorkMiddleware
from shopbot.bot.texts import Texts
from tests.e2e.bot_stack import BOT_ID, BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_customer import plain

EN, RU = Texts("en"), Texts("ru")
REDIS = {"redis_url": "redis://127.0.0.1:6379/0"}
FLOOD = 12
# One token a minute: none comes back while the test runs, so the counts are exact.
LIMITS: dict[str, Any] = {
    "rate_limit_messages_per_minute": 1,
    "rate_limit_operations_per_minute": 1,
    "rate_limit_payments_per_minute": 1,
    "rate_limit_burst": 4,
    "rate_limit_global_per_second": 25,
}
CAPACITY = 1 + 4
NOTICE = re.compile(r"⏳ Too many requests\. Please try again in (\d+) s\.")
NOTICE_RU = re.compile(r"⏳ Слишком много запросов\. Попробуйте снова через (\d+) с\.")  # noqa: RUF001
PAYMENT_NOTICE = re.compile(r"⏳ Too many payment attempts\. Please try again in (\d+) s\.")


def refused(category: str) -> float:
    value = REGISTRY.get_sample_value("shopbot_rate_limited_total", {"category": category})
    return value or 0.0


def fresh_id() -> int:
    return random.randrange(10**9, 2 * 10**9)


def flood(user: ChatUser, text: str, count: int) -> None:
    """`count` messages at once: queued before the bot handles the first."""
    for _ in range(count):
        user.emulator.send_text(user.id, text)


async def forget_update_markers(url: str) -> None:
    """Each emulator starts update ids at 1 (Telegram never repeats them): the dedupe
    markers of earlier runs would drop this run's updates before they are counted."""
    async with Redis.from_url(url) as redis:
        async for key in redis.scan_iter(match=f"shopbot:update:{BOT_ID}:*"):
            await redis.delete(key)


def within_a_minute(match: re.Match[str] | None) -> bool:
    return match is not None and 50 <= int(match.group(1)) <= 60


def assert_each_update_answered_once(stack: BotStack) -> None:
    """Webhook mode: a limited update is answered 2xx like any other, never redelivered."""
    if stack.mode != "webhook":
        return
    deliveries = stack.emulator.deliveries()
    assert all(d.get("ok") for d in deliveries), deliveries
    assert len({d["update_id"] for d in deliveries}) == len(deliveries)


@pytest.mark.parametrize(("mode", "store"), [("polling", {}), ("webhook", REDIS)])
async def test_a_flooding_user_is_answered_limit_plus_burst_times_and_told_once(
    pg_url: str, mode: str, store: dict[str, Any]
) -> None:
    if store:
        await forget_update_markers(store["redis_url"])
    admin_id = fresh_id()
    async with bot_stack(pg_url, mode=mode, admin_ids=[admin_id], **LIMITS, **store) as stack:
        outer: list[type] = [type(m) for m in stack.dispatcher.update.outer_middleware]
        order: list[type] = [
            UpdateDedupeMiddleware,
            RateLimitMiddleware,
            PrivateChatsOnly,
            UnitOfWorkMiddleware,
        ]
        assert [outer.index(kind) for kind in order] == sorted(map(outer.index, order))
        alice = stack.user(fresh_id(), "Alice")
        boris = stack.user(fresh_id(), "Boris", language="ru")
        admin = stack.user(admin_id, "Admin")
        before = refused("message"), refused("operation")

        flood(alice, "/help", FLOOD)
        flood(boris, "/help", FLOOD)
        flood(admin, "/help", FLOOD)
        await stack.idle()

        texts = alice.bot_texts()
        assert texts.count(plain(EN("help.text"))) == CAPACITY
        notices = [t for t in texts if t.startswith("⏳")]
        assert len(notices) == 1, notices
        assert within_a_minute(NOTICE.fullmatch(notices[0])), notices
        assert len(texts) == CAPACITY + 1
        ru_notices = [t for t in boris.bot_texts() if t.startswith("⏳")]
        assert len(ru_notices) == 1
        assert within_a_minute(NOTICE_RU.fullmatch(ru_notices[0]))
        assert admin.bot_texts() == [plain(EN("help.text"))] * FLOOD

        # Presses count apart from messages: Alice's buttons still work, up to their limit.
        menu, data = alice.message_with_button(EN("menu.balance"))
        presses = [alice.emulator.press(alice.id, menu.message_id, data) for _ in range(8)]
        await stack.idle()
        answers = [alice.emulator.callback_answer(query) for query in presses]
        assert all(answer.answered for answer in answers)
        toasts = [a for a in answers if a.text and a.text.startswith("⏳")]
        assert len(toasts) == 8 - CAPACITY
        assert all(within_a_minute(NOTICE.fullmatch(a.text or "")) for a in toasts)
        assert not any(a.show_alert for a in toasts)
        [shown] = [m for m in alice.messages(sender="bot") if m.message_id == menu.message_id]
        assert (shown.text or "").startswith("Your balance: 0.00 USD")  # the handler ran

        assert (refused("message"), refused("operation")) == (
            before[0] + 2 * (FLOOD - CAPACITY),
            before[1] + 8 - CAPACITY,
        )
        assert_each_update_answered_once(stack)


async def test_payment_attempts_past_the_limit_send_no_invoice(pg_url: str) -> None:
    limits: dict[str, Any] = {
        **LIMITS,
        "rate_limit_operations_per_minute": 20,
        "rate_limit_burst": 0,
    }
    async with bot_stack(pg_url, **limits) as stack:
        alice = stack.user(fresh_id(), "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("5.00 USD")
        before = refused("payment")

        methods, data = alice.message_with_button("Telegram Stars")
        presses = [alice.emulator.press(alice.id, methods.message_id, data) for _ in range(3)]
        await stack.idle()

        invoices = [m for m in alice.messages(sender="bot") if m.invoice]
        assert len(invoices) == 1
        answers = [alice.emulator.callback_answer(query).text or "" for query in presses]
        assert answers[0] == ""
        assert all(within_a_minute(PAYMENT_NOTICE.fullmatch(a)) for a in answers[1:]), answers
        assert refused("payment") == before + 2


def help_update(bot: Bot, update_id: int, user_id: int) -> Update:
    """A /help message as Telegram sends it, bound to `bot` (as aiogram's feed does)."""
    user = {"id": user_id, "is_bot": False, "first_name": "Alice", "language_code": "en"}
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private", "first_name": "Alice"},
                "from": user,
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        },
        context={"bot": bot},
    )


async def test_a_repeated_update_takes_no_second_token(pg_url: str) -> None:
    """The limit sits inside the update de-duplication: Telegram's redelivery of an update
    already handled is dropped there and spends nothing of the user's limit."""
    limits: dict[str, Any] = {**LIMITS, "rate_limit_burst": 2}  # three messages a minute
    async with bot_stack(pg_url, **limits) as stack:
        alice = stack.user(fresh_id(), "Alice")
        await alice.send("/start")  # one
        first = help_update(stack.bot, 10**6, alice.id)
        second = help_update(stack.bot, 10**6 + 1, alice.id)

        for update in (first, first, first, second):
            await stack.dispatcher.feed_update(stack.bot, update)

        assert alice.bot_texts()[1:] == [plain(EN("help.text"))] * 2  # two and three


async def test_in_webhook_mode_a_burst_beyond_the_global_limit_is_deferred(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The global limit defers, it does not drop: what it refuses is answered non-2xx
    and handled on Telegram's redelivery, so after a burst (Telegram redelivering what an
    outage failed) every user still gets exactly one answer."""
    # A Redis database of its own: the global bucket and the update markers (the emulator
    # numbers updates from 1 for the same bot id) are shared by every test on db 0, and a
    # concurrent test would take this one's tokens or mark its updates done.
    url = "redis://127.0.0.1:6379/12"
    async with Redis.from_url(url) as redis:
        await redis.flushdb()
    limits = {**LIMITS, "rate_limit_burst": 10, "rate_limit_global_per_second": 2}
    async with bot_stack(pg_url, mode="webhook", redis_url=url, **limits) as stack:
        users = [stack.user(fresh_id(), f"U{n}") for n in range(6)]
        before = refused("global")
        for user in users:  # six at once against two a second
            user.emulator.send_text(user.id, "/help")
        await stack.idle()
        await stack.emulator.wait_for(
            lambda: all(plain(EN("help.text")) in u.bot_texts() for u in users), timeout=30
        )
        await stack.idle()

        deliveries = stack.emulator.deliveries()
        answered = [d for d in deliveries if d.get("ok")]
        assert refused("global") > before  # the limit did refuse some
        deferred = [d for d in deliveries if not d.get("ok")]
        assert deferred  # ... answered 429 (not a failure's 500), and they came back:
        assert {d.get("status") for d in deferred} == {429}
        assert len({d["update_id"] for d in answered}) == len(answered) == len(users)
        for user in users:
            assert user.bot_texts() == [plain(EN("help.text"))]  # once, no notice
    # Deferred, not failed: no error (aiogram's traceback included) in the log.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
