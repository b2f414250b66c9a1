"""Robustness end to end: double taps, redelivered updates, unknown input, escaping,
unexpected errors and secrets, through the real bot and the Telegram emulator."""

import dataclasses
import logging
import re
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from shopbot.bot import delivery as delivering
from shopbot.bot import rendering
from shopbot.bot.routers import balance
from shopbot.bot.runtime import WEBHOOK_PATH
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, product_spec
from tests.e2e.bot_stack import TOKEN, WEBHOOK_SECRET, BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_customer import (
    ADMIN,
    ALICE,
    assert_api_calls_ok,
    assert_no_secrets,
    balance_of,
    credit,
    plain,
)

EN = Texts("en")
ERROR_PREFIX = plain(EN("error.generic", error_id="")).split(":")[0]
RETRYING_PREFIX = plain(EN("error.retrying", error_id="")).split(":")[0]


async def orders_of(uows: UnitOfWorkFactory, user_id: int) -> list[Any]:
    async with uows() as uow:
        return await uow.orders.list_for_user(user_id, 100)


async def stock_left(uows: UnitOfWorkFactory, product_id: int) -> int:
    async with uows() as uow:
        return await uow.stock.available(product_id)


async def ledger_sound(uows: UnitOfWorkFactory) -> bool:
    async with uows() as uow:
        return (await uow.ledger.verify()).sound


async def to_confirm(user: ChatUser, title: str = "Product key") -> tuple[int, str]:
    """From /start to the confirm screen; returns the message id and the confirm data."""
    await user.send("/start")
    await user.press(EN("menu.catalog"))
    await user.press(EN("catalog.other"))
    await user.press(title)
    await user.press("Buy for")
    message, data = user.message_with_button(EN("buy.confirm_button"))
    return message.message_id, data


def error_messages(user: ChatUser) -> list[str]:
    return [text for text in user.bot_texts() if text.startswith(ERROR_PREFIX)]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_double_tap_on_confirm_buys_once(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    product = await add_product(pg_uow, "key", price="3.50", stock=["K-1", "K-2"])
    async with bot_stack(pg_url, mode=mode) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await credit(pg_uow, ALICE, "10.00")
        message_id, confirm = await to_confirm(alice)

        # two presses of the same button before the bot answered either
        first = stack.emulator.press(ALICE, message_id, confirm)
        second = stack.emulator.press(ALICE, message_id, confirm)
        await stack.idle()

        assert len(await orders_of(pg_uow, ALICE)) == 1
        assert await stock_left(pg_uow, product) == 1
        assert await balance_of(pg_uow, ALICE) == Decimal("6.50")
        assert await ledger_sound(pg_uow)
        for query in (first, second):
            assert stack.emulator.callback_answer(query).answered  # no endless spinner
        shown = alice.last_text()
        assert "K-1" in shown
        assert "K-2" not in " ".join(alice.bot_texts())
        assert shown.startswith(plain(EN("buy.already", order_id=1)))
        assert not error_messages(alice)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_double_tap_on_a_menu_button_is_harmless(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    """The second tap edits the message to what it already shows: Telegram refuses
    ("message is not modified") and the user must not see an error for it."""
    await add_product(pg_uow, "key", price="3.50", stock=["K-1"])
    async with bot_stack(pg_url, mode=mode) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        message, data = alice.message_with_button(EN("menu.catalog"))
        stack.emulator.press(ALICE, message.message_id, data)
        stack.emulator.press(ALICE, message.message_id, data)
        await stack.idle()
        assert alice.last_text() == plain(EN("catalog.categories"))
        assert not error_messages(alice)
        if mode == "webhook":  # handled, not redelivered
            assert all(d["ok"] for d in stack.emulator.deliveries())


async def test_failed_update_is_redelivered_and_buys_once(
    pg_url: str, pg_uow: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purchase commits, then answering the user fails: the webhook answers non-2xx,
    the emulator redelivers, and the second run finds the order instead of buying again."""
    product = await add_product(pg_uow, "key", price="3.50", stock=["K-1", "K-2"])
    failures: list[float] = []
    render = rendering.delivery  # what shopbot.bot.delivery calls by that name

    def flaky(*args: Any, **kwargs: Any) -> str:
        if not failures:
            failures.append(time.monotonic())
            raise RuntimeError("the network hiccuped")
        return render(*args, **kwargs)

    monkeypatch.setattr(delivering, "delivery", flaky)
    async with bot_stack(pg_url, mode="webhook") as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await credit(pg_uow, ALICE, "10.00")
        message_id, confirm = await to_confirm(alice)
        await alice.press_data(message_id, confirm)

        update_id = stack.emulator.bot().next_update_id - 1
        attempts = [d for d in stack.emulator.deliveries() if d["update_id"] == update_id]
        assert [(d["attempt"], d["ok"]) for d in attempts] == [(1, False), (2, True)]
        assert attempts[0]["status"] >= 500
        assert len(await orders_of(pg_uow, ALICE)) == 1
        assert await stock_left(pg_uow, product) == 1
        assert await balance_of(pg_uow, ALICE) == Decimal("6.50")
        assert await ledger_sound(pg_uow)
        screen = stack.emulator.chat(ALICE).find(message_id)
        assert screen is not None
        assert "K-1" in (screen.text or "")  # the redelivery showed the order it found
        # The failed attempt said so once, with an id, and that it is being retried
        # (webhook mode: Telegram redelivers), not "try again".
        told = [t for t in alice.bot_texts() if t.startswith(RETRYING_PREFIX)]
        assert len(told) == 1
        assert not error_messages(alice)


async def _post_update(stack: BotStack, update: dict[str, Any], secret: str | None) -> int:
    url = f"{str(stack.settings.public_base_url).rstrip('/')}{WEBHOOK_PATH}"
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=update, headers=headers) as response,
    ):
        return response.status


async def test_the_same_update_twice_is_handled_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    """Telegram may deliver an update again when our 2xx got lost: one answer only."""
    async with bot_stack(pg_url, mode="webhook") as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        update = {
            "update_id": 777_000,
            "message": {
                "message_id": 500,
                "date": int(time.time()),
                "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
                "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        assert await _post_update(stack, update, None) in (401, 403)  # no secret, no entry
        assert await _post_update(stack, update, "wrong-secret") in (401, 403)
        help_text = plain(EN("help.text"))
        assert help_text not in alice.bot_texts()
        assert await _post_update(stack, update, WEBHOOK_SECRET) == 200
        assert await _post_update(stack, update, WEBHOOK_SECRET) == 200
        await stack.emulator.wait_idle(5)
        assert alice.bot_texts().count(help_text) == 1


async def test_unknown_input_and_stale_buttons_get_the_short_help(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.send("what is this shop about?")
        assert alice.last_text() == plain(EN("unknown.text"))
        assert EN("menu.catalog") in alice.buttons()
        await alice.send("/nonsense")
        assert alice.last_text() == plain(EN("unknown.text"))

        # a button from an older version of the bot, whose data no router knows any more
        old = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Old", callback_data="gone:42")]]
        )
        sent = await stack.bot.send_message(ALICE, "An old message", reply_markup=old)
        await stack.idle()
        query = await alice.press_data(sent.message_id, "gone:42")
        answer = stack.emulator.callback_answer(query)
        assert answer.answered
        assert answer.text == plain(EN("unknown.text"))
        assert not error_messages(alice)
        assert_api_calls_ok(stack)


async def test_user_and_operator_text_is_escaped(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    """Unbalanced tags and ampersands everywhere: the emulator rejects unparsable HTML, so
    a single unescaped value would fail the call."""
    async with pg_uow() as uow:
        spec = dataclasses.replace(
            product_spec("tj", ProductKind.UNLIMITED, "1.00"),
            title=LocalizedText(ru="Том & Джерри <3", en="Tom & Jerry <3"),
            content="Watch <here> & enjoy",
        )
        await uow.catalog.upsert_product(spec, None)
        await uow.commit()
    nasty = "<b>Eve & co"
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        eve = stack.user(ALICE, nasty, username="eve")
        await admin.send("/start")
        await eve.send("/start")
        assert eve.last_text() == plain(EN("start.welcome", name=nasty))
        assert nasty in eve.last_text()
        await credit(pg_uow, ALICE, "5.00")

        message_id, confirm = await to_confirm(eve, "Tom & Jerry <3")
        await eve.press_data(message_id, confirm)
        assert "Tom & Jerry <3" in eve.last_text()
        assert "Watch <here> & enjoy" in eve.last_text()
        await eve.press(EN("common.menu"))
        await eve.press(EN("menu.orders"))
        assert any("Tom & Jerry <3" in label for label in eve.buttons())  # plain button text

        await eve.press(EN("menu.support"))
        await eve.send("</i> 1 < 2 & <script>")
        forwarded = admin.messages(sender="bot")[-1]
        assert nasty in (forwarded.text or "")
        assert (forwarded.text or "").endswith("</i> 1 < 2 & <script>")
        await admin.send("<u>Fixed & done", reply_to=forwarded.message_id)
        assert eve.last_text() == plain(EN("support.reply", text="<u>Fixed & done"))
        assert_api_calls_ok(stack)


async def test_unexpected_error_shows_an_id_that_is_in_the_log(
    pg_url: str,
    pg_uow: UnitOfWorkFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("history renderer exploded")

    monkeypatch.setattr(balance, "history_line", broken)
    caplog.set_level(logging.INFO)
    async with bot_stack(pg_url) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await credit(pg_uow, ALICE, "2.00")
        await alice.press(EN("menu.balance"))

        errors = error_messages(alice)
        assert len(errors) == 1
        found = re.search(r"([0-9a-f]{8})\s*$", errors[0])
        assert found is not None, errors[0]
        error_id = found.group(1)
        assert errors[0] == plain(EN("error.generic", error_id=error_id))
        logged = [r for r in caplog.records if error_id in r.getMessage()]
        assert logged
        assert logged[0].levelno == logging.ERROR
        assert logged[0].exc_info is not None
        assert "history renderer exploded" in str(logged[0].exc_info[1])

        # the bot keeps working, and no secret reached a message or our own logs
        monkeypatch.undo()
        await alice.press(EN("menu.balance"))
        shown = plain(EN("balance.text", balance="2.00", currency="USD"))
        assert any(text.startswith(shown) for text in alice.bot_texts())
        assert_no_secrets(stack)
        ours = [r for r in caplog.records if not r.name.startswith("aiohttp.access")]
        for record in ours:
            text = record.getMessage() + str(record.exc_info[1] if record.exc_info else "")
            assert TOKEN not in text
            assert WEBHOOK_SECRET not in text
