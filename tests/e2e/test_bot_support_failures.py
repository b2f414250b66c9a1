"""What users hit when Telegram refuses or fails (issue 9): a support chat that cannot be
reached, Telegram outages while relaying, and albums (media groups), end to end through
the real bot in webhook mode (where a failed update is redelivered) and the emulator."""

import logging
from typing import Any

import pytest
from redis.asyncio import Redis

from shopbot.bot.texts import Texts
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import AlbumItem
from tests.conftest import add_product
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_admin import open_admin, open_shop
from tests.e2e.test_bot_customer import ADMIN, ALICE, plain

EN = Texts("en")
ERROR_PREFIX = plain(EN("error.generic", error_id="")).split(":")[0]
RETRYING_PREFIX = plain(EN("error.retrying", error_id="")).split(":")[0]
REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own: update ids restart per test


def png(width: int) -> bytes:
    return bytes.fromhex("89504e470d0a1a0a0000000d49484452") + width.to_bytes(4) + (80).to_bytes(4)


def photos(count: int) -> list[AlbumItem]:
    return [AlbumItem("photo", f"shot{i}.png", png(100 + i)) for i in range(count)]


def answers_after(user: ChatUser, text: str) -> list[str]:
    """The bot's messages to `user` after the user's last message `text`."""
    messages = user.messages()
    index = max(i for i, m in enumerate(messages) if m.sender == "user" and m.text == text)
    return [m.text or m.caption or "" for m in messages[index + 1 :] if m.sender == "bot"]


def attempts_of_last_update(stack: BotStack) -> list[tuple[int, bool]]:
    update_id = stack.emulator.bot().next_update_id - 1
    found = [d for d in stack.emulator.deliveries() if d["update_id"] == update_id]
    return [(d["attempt"], d["ok"]) for d in found]


async def to_support(user: ChatUser, text: str) -> None:
    await user.send("/start")
    await user.press(EN("menu.support"))
    await user.send(text)


async def test_unreachable_support_chat_tells_the_customer_once_and_the_operator_why(
    pg_url: str, pg_uow: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The support chat's admin never started the bot: Telegram answers 400 "chat not
    found". One clear reply, no redelivery, a log line naming the chat, Telegram's
    words and the fix; once the admin presses Start, support works."""
    caplog.set_level(logging.INFO)
    async with bot_stack(pg_url, mode="webhook", support_chat_id=ADMIN) as stack:
        alice = stack.user(ALICE, "Alice")
        await to_support(alice, "My key does not work")

        assert answers_after(alice, "My key does not work") == [plain(EN("support.not_delivered"))]
        assert attempts_of_last_update(stack) == [(1, True)]
        assert all(d["ok"] for d in stack.emulator.deliveries())
        logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(logged) == 1, logged
        assert f"not delivered to SUPPORT_CHAT_ID: SendMessage to chat {ADMIN}" in logged[0]
        assert "Bad Request: chat not found" in logged[0]
        assert "must open the bot and press Start" in logged[0]

        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        await to_support(alice, "Trying again")
        assert answers_after(alice, "Trying again") == [plain(EN("support.sent"))]
        assert admin.last_text().endswith("Trying again")


async def test_support_falls_back_to_another_admin_who_can_answer(
    pg_url: str, pg_uow: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """SUPPORT_CHAT_ID names a chat the bot cannot write to: the message reaches an admin
    instead, whose reply in their own chat reaches the customer."""
    caplog.set_level(logging.INFO)
    async with bot_stack(pg_url, mode="webhook", admin_ids=[ADMIN], support_chat_id=-100555) as s:
        admin, alice = s.user(ADMIN, "Admin"), s.user(ALICE, "Alice")
        await admin.send("/start")
        await to_support(alice, "Where is my order?")

        assert answers_after(alice, "Where is my order?") == [plain(EN("support.sent"))]
        relayed = admin.messages(sender="bot")[-1]
        assert (relayed.text or "").startswith(f"#u{ALICE} ")
        logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("SUPPORT_CHAT_ID" in m and "chat -100555" in m for m in logged), logged
        await admin.send("On its way", reply_to=relayed.message_id)
        assert alice.last_text() == plain(EN("support.reply", text="On its way"))


@pytest.mark.parametrize(
    ("code", "description", "retry_after"),
    [(502, "Bad Gateway", None), (429, "Too Many Requests: retry after 1", 1)],
)
async def test_transient_failure_is_redelivered_and_told_once(
    pg_url: str,
    pg_uow: UnitOfWorkFactory,
    code: int,
    description: str,
    retry_after: int | None,
) -> None:
    async with bot_stack(pg_url, mode="webhook", admin_ids=[ADMIN]) as stack:
        admin, alice = stack.user(ADMIN, "Admin"), stack.user(ALICE, "Alice")
        await admin.send("/start")
        await alice.send("/start")
        await alice.press(EN("menu.support"))
        stack.emulator.faults.inject(
            "sendMessage", code, description, times=2, chat_id=ADMIN, retry_after=retry_after
        )
        await alice.send("Is anyone there?")

        assert attempts_of_last_update(stack) == [(1, False), (2, False), (3, True)]
        replies = answers_after(alice, "Is anyone there?")
        assert len(replies) == 2, replies
        # Telegram redelivers (webhook mode): "we are retrying, no need to resend".
        assert replies[0].startswith(RETRYING_PREFIX)
        assert replies[1] == plain(EN("support.sent"))
        relayed = [m for m in admin.messages(sender="bot") if "Is anyone there?" in (m.text or "")]
        assert len(relayed) == 1


async def test_permanent_refusal_elsewhere_is_answered_once_and_not_redelivered(
    pg_url: str, pg_uow: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Any handler: a 400 from Telegram fails the same way on every redelivery."""
    caplog.set_level(logging.INFO)
    async with bot_stack(pg_url, mode="webhook") as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        stack.emulator.faults.inject(
            "editMessageText", 400, "Bad Request: message to edit not found", chat_id=ALICE
        )
        await alice.press(EN("menu.balance"))

        assert attempts_of_last_update(stack) == [(1, True)]
        errors = [text for text in alice.bot_texts() if text.startswith(ERROR_PREFIX)]
        assert len(errors) == 1
        warned = [r for r in caplog.records if "not retried" in r.getMessage()]
        assert len(warned) == 1
        assert warned[0].levelno == logging.WARNING
        assert (
            f"EditMessageText to chat {ALICE}: Bad Request: message to edit not found"
            in warned[0].getMessage()
        )
        assert errors[0].split()[-1] in warned[0].getMessage()  # the error id


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_album_reaches_support_whole_with_one_confirmation(
    pg_url: str, pg_uow: UnitOfWorkFactory, store: str
) -> None:
    options: dict[str, Any] = {}
    if store == "redis":
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
        options["redis_url"] = REDIS_URL
    async with bot_stack(pg_url, mode="webhook", admin_ids=[ADMIN], **options) as stack:
        admin, alice = stack.user(ADMIN, "Admin"), stack.user(ALICE, "Alice")
        await admin.send("/start")
        await alice.send("/start")
        await alice.press(EN("menu.support"))
        before = len(alice.messages(sender="bot"))
        await alice.send_album(photos(3), caption="broken screen")

        relayed = [m for m in admin.messages(sender="bot") if m.photo]
        assert [m.photo[-1]["width"] for m in relayed if m.photo] == [100, 101, 102]
        assert all((m.caption or "").startswith(f"#u{ALICE} ") for m in relayed)
        assert (relayed[0].caption or "").endswith("broken screen")
        assert alice.bot_texts()[before:] == [plain(EN("support.sent"))]
        assert all(d["ok"] for d in stack.emulator.deliveries())

        # the admin answers with an album: one title, both photos, one confirmation
        admin_before = len(admin.messages(sender="bot"))
        await admin.send_album(photos(2), caption="like this", reply_to=relayed[1].message_id)
        got = alice.messages(sender="bot")[before + 1 :]
        assert [m.text for m in got[:1]] == [plain(EN("support.reply_title"))]
        assert [m.photo[-1]["width"] for m in got[1:] if m.photo] == [100, 101]
        assert len(got) == 3
        assert admin.bot_texts()[admin_before:] == [plain(EN("support.reply_sent", user_id=ALICE))]

        # outside support an album gets one short help, not one per photo
        await alice.send_album(photos(2))
        assert alice.bot_texts()[-1] == plain(EN("unknown.text"))
        assert alice.bot_texts().count(plain(EN("unknown.text"))) == 1


async def test_unreachable_support_chat_and_an_album_one_notice(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, mode="webhook", admin_ids=[ADMIN]) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.support"))
        before = len(alice.messages(sender="bot"))
        await alice.send_album(photos(3))
        assert alice.bot_texts()[before:] == [plain(EN("support.not_delivered"))]
        assert all(d["ok"] for d in stack.emulator.deliveries())


async def test_stock_uploaded_as_an_album_of_documents(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook") as shop:
        await add_product(shop.uows, "keys", stock=[])
        await shop.admin.send("/start")
        await open_admin(shop, "admin.section.products")
        await shop.admin.press("keys")
        await shop.admin.press(EN("admin.product.upload"))
        files = [
            AlbumItem("document", "a.txt", b"A-1\nA-2\n", "text/plain"),
            AlbumItem("document", "b.txt", b"B-1\n", "text/plain"),
        ]
        await shop.admin.send_album(files)
        texts = shop.admin.bot_texts()
        assert texts[-2:] == [
            "✅ Added 2 items to keys; 2 available.",
            "✅ Added 1 items to keys; 3 available.",
        ]
        assert plain(EN("unknown.text")) not in texts
        async with shop.uows() as uow:
            product = await uow.catalog.get_product("keys")
            assert product is not None
            assert await uow.stock.available(product.id) == 3


async def test_broadcast_progress_refused_is_logged_not_raised(
    pg_url: str, pg_uow: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with open_shop(pg_url, "webhook") as shop:
        await shop.admin.send("/start")
        await shop.alice.send("/start")
        await open_admin(shop, "admin.section.broadcast")
        await shop.admin.send("News")
        await shop.admin.press(EN("admin.broadcast.no_buttons"))
        # every edit of the progress message is refused: the admin blocked the bot
        shop.emu.faults.inject(
            "editMessageText", 403, "Forbidden: bot was blocked by the user", times=5
        )
        await shop.admin.press(EN("admin.broadcast.send"))

        def reported() -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.getMessage().startswith("broadcast 1: progress not shown")
            ]

        logged = await shop.emu.wait_for(reported, timeout=30)
        assert "Forbidden: bot was blocked by the user" in logged[0]
        assert shop.alice.bot_texts()[-1] == "News"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
