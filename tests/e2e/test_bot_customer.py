"""The customer's journeys end to end: the real aiogram Bot and Dispatcher over HTTP
against the Telegram Bot API emulator, on real PostgreSQL, in both languages and both
update modes. Expected texts come from the translation files, so a wrong language shows."""

import dataclasses
import html
import json
import re
import uuid
from decimal import Decimal

import pytest

from shopbot.bot.callbacks import OrderCB
from shopbot.bot.keyboards import button, rows
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.domain.catalog.spec import CategorySpec
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.ledger.use_cases import credit_topup
from shopbot.domain.orders.use_cases import purchase
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, product_spec
from tests.e2e.bot_stack import TOKEN, WEBHOOK_SECRET, BotStack, ChatUser, bot_stack

ADMIN = 900
ALICE, BORIS, REFERRER = 1001, 1002, 2001
OTHER = {"en": "ru", "ru": "en"}


def plain(text: str) -> str:
    """What a client shows for an HTML message: tags gone, entities decoded."""
    return html.unescape(re.sub(r"</?[a-z]+[^>]*>", "", text))


async def credit(uows: UnitOfWorkFactory, user_id: int, amount: str) -> None:
    async with uows() as uow:
        await credit_topup(
            uow,
            user_id=user_id,
            amount=Decimal(amount),
            provider=SystemAccount.HELEKET,
            idempotency_key=f"e2e:{uuid.uuid4()}",
            memo="e2e top-up",
        )
        await uow.commit()


async def balance_of(uows: UnitOfWorkFactory, user_id: int) -> Decimal:
    async with uows() as uow:
        return await uow.ledger.balance(user_account(user_id))


def assert_no_secrets(stack: BotStack, *extra: str) -> None:
    """Nothing the bot ever sent (messages, edits, alerts) carries a secret."""
    secrets = [TOKEN, WEBHOOK_SECRET, TOKEN.split(":", 1)[1], *extra]
    sent = [
        json.dumps(call.params, ensure_ascii=False)
        for call in stack.emulator.calls()
        if call.method.lower() not in ("setwebhook", "getupdates", "deletewebhook")
    ]
    for chat in stack.emulator.bot().chats.values():
        sent += [json.dumps(m.to_dict(), ensure_ascii=False, default=str) for m in chat.messages]
    for text in sent:
        for secret in secrets:
            assert secret not in text


def assert_api_calls_ok(stack: BotStack) -> None:
    """Every message the bot composed was accepted (the emulator rejects bad HTML)."""
    failed = [
        (c.method, c.description)
        for c in stack.emulator.calls()
        if not c.ok and c.method.lower() != "getupdates"
    ]
    assert not failed


async def shop(uows: UnitOfWorkFactory) -> dict[str, int]:
    """A category with a stock key, an unlimited guide and a made-to-order service."""
    async with uows() as uow:
        category = await uow.catalog.upsert_category(
            CategorySpec("games", LocalizedText(ru="Игры", en="Games"), 1)
        )
        ids = {}
        for sku, kind, price in (
            ("key", ProductKind.STOCK, "3.50"),
            ("guide", ProductKind.UNLIMITED, "1.00"),
            ("setup", ProductKind.MANUAL, "5.00"),
        ):
            spec = dataclasses.replace(product_spec(sku, kind, price), category_slug="games")
            product = await uow.catalog.upsert_product(spec, category.id)
            ids[sku] = product.id
        await uow.stock.add_items(ids["key"], ["KEY-AAAA-1111", "KEY-BBBB-2222"])
        await uow.commit()
    return ids


def games(t: Texts) -> str:
    return "Игры" if t.language == "ru" else "Games"


def title_of(t: Texts, sku: str) -> str:
    return f"Товар {sku}" if t.language == "ru" else f"Product {sku}"


async def buy(user: ChatUser, t: Texts, sku: str, price: str, currency: str) -> str:
    """From the main menu to the delivery; returns the delivery text as shown."""
    await user.press(t("menu.catalog"))
    assert user.last_text() == plain(t("catalog.categories"))
    await user.press(games(t))
    title = title_of(t, sku)
    await user.press(title)
    assert title in user.last_text()
    assert f"{price} {currency}" in user.last_text()
    await user.press(t("product.buy", price=price, currency=currency))
    assert plain(t("buy.confirm_button")) in user.buttons()
    await user.press(t("buy.confirm_button"))
    delivered = user.last_text()
    assert title in delivered
    await user.press(t("common.menu"))
    return delivered


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_main_journey(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str, language: str
) -> None:
    ids = await shop(pg_uow)
    t, en = Texts(language), Texts("en")
    async with bot_stack(pg_url, mode=mode, admin_ids=[ADMIN]) as stack:
        cur = stack.ctx.currency
        admin = stack.user(ADMIN, "Admin", language="en")
        referrer = stack.user(REFERRER, "Ref", language="en")
        alice = stack.user(ALICE, "Alice", language=language, username="alice")
        await admin.send("/start")
        await referrer.send("/start")

        # /start with a referral deep link: the user's language, the referrer stored once
        await alice.send(f"/start ref_{REFERRER}")
        assert alice.last_text() == plain(t("start.welcome", name="Alice"))
        assert plain(t("menu.catalog")) in alice.buttons()
        await alice.send(f"/start {ADMIN}")
        async with pg_uow() as uow:
            registered = await uow.users.get(ALICE)
        assert registered is not None
        assert (registered.language, registered.referrer_id) == (language, REFERRER)
        await credit(pg_uow, ALICE, "20.00")

        # the product card: price and stock left
        await alice.press(t("menu.catalog"))
        await alice.press(games(t))
        assert alice.last_text() == plain(t("catalog.products", category=games(t), page=1, pages=1))
        await alice.press(title_of(t, "key"))
        card = alice.last_text()
        assert f"3.50 {cur}" in card
        assert plain(t("product.in_stock", count=2)) in card
        await alice.press(t("common.back"))  # to the products
        await alice.press(t("common.back"))  # to the categories
        await alice.press(t("common.menu"))

        # stock, unlimited and manual purchases
        key_delivery = await buy(alice, t, "key", "3.50", cur)
        assert key_delivery == plain(
            t("buy.delivered_item", order_id=1, title=title_of(t, "key"), item="KEY-AAAA-1111")
        )
        guide_delivery = await buy(alice, t, "guide", "1.00", cur)
        assert guide_delivery == plain(
            t(
                "buy.delivered_content",
                order_id=2,
                title=title_of(t, "guide"),
                content="content of guide",
            )
        )
        setup_delivery = await buy(alice, t, "setup", "5.00", cur)
        assert setup_delivery == plain(t("buy.manual", order_id=3, title=title_of(t, "setup")))
        notice = admin.last_text()
        assert notice == plain(
            en(
                "admin.manual_order",
                order_id=3,
                title="Product setup",
                price="5.00",
                currency=cur,
                buyer=f"@alice (id {ALICE})",
            )
        )
        assert plain(en("admin.mark_fulfilled")) in admin.buttons()
        assert await balance_of(pg_uow, ALICE) == Decimal("10.50")

        # balance with its history, kinds translated, amounts signed
        await alice.press(t("menu.balance"))
        page = alice.last_text()
        assert plain(t("balance.text", balance="10.50", currency=cur)) in page
        assert plain(t("balance.history_title")) in page
        for line in (
            f"+20.00 {cur} · {t('kind.topup')}",
            f"-3.50 {cur} · {t('kind.purchase')}",
            f"-1.00 {cur} · {t('kind.purchase')}",
            f"-5.00 {cur} · {t('kind.purchase')}",
        ):
            assert line in page
        assert page.index("-5.00") < page.index("+20.00")  # newest first
        assert plain(t("menu.topup")) in alice.buttons()
        await alice.press(t("common.menu"))

        # My orders: newest first; each shows its delivery again, exactly as at purchase
        await alice.press(t("menu.orders"))
        assert alice.last_text() == plain(t("orders.title", page=1))
        order_labels = [label for label in alice.buttons() if "·" in label]
        assert order_labels == [
            plain(
                t(
                    "orders.button",
                    order_id=n,
                    title=title_of(t, sku),
                    price=price,
                    currency=cur,
                    status=t(f"orders.status.{status}"),
                )
            )
            for n, sku, price, status in (
                (3, "setup", "5.00", "awaiting_fulfilment"),
                (2, "guide", "1.00", "delivered"),
                (1, "key", "3.50", "delivered"),
            )
        ]
        await alice.press(order_labels[2])
        assert alice.last_text() == key_delivery
        await alice.press(t("common.back"))
        await alice.press(order_labels[1])
        assert alice.last_text() == guide_delivery
        await alice.press(t("common.back"))
        await alice.press(t("common.menu"))
        async with pg_uow() as uow:
            assert await uow.stock.available(ids["key"]) == 1

        # support round trip through an admin's reply
        await alice.press(t("menu.support"))
        assert alice.last_text() == plain(t("support.prompt"))
        await alice.send("Where is my setup? <b>soon</b> & thanks")
        assert alice.last_text() == plain(t("support.sent"))
        forwarded = admin.messages(sender="bot")[-1]
        assert (forwarded.text or "").startswith(f"#u{ALICE} ")
        assert "@alice" in (forwarded.text or "")
        assert (forwarded.text or "").endswith("Where is my setup? <b>soon</b> & thanks")
        await admin.send("It is ready <i>now</i> & enjoy", reply_to=forwarded.message_id)
        assert alice.last_text() == plain(t("support.reply", text="It is ready <i>now</i> & enjoy"))
        assert admin.last_text() == plain(en("support.reply_sent", user_id=ALICE))
        await alice.send("just chatting")  # the support state is over
        assert alice.last_text() == plain(t("unknown.text"))

        # /language switches every text
        other = Texts(OTHER[language])
        await alice.send("/language")
        await alice.press("English" if other.language == "en" else "Русский")
        assert alice.last_text() == plain(other("menu.title"))
        await alice.send("/help")
        assert alice.last_text() == plain(other("help.text"))
        async with pg_uow() as uow:
            switched = await uow.users.get(ALICE)
        assert switched is not None
        assert switched.language == other.language

        assert_api_calls_ok(stack)
        assert_no_secrets(stack)


async def test_self_referral_is_ignored_and_the_first_referrer_kept(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url) as stack:
        referrer = stack.user(REFERRER, "Ref")
        boris = stack.user(BORIS, "Boris")
        alice = stack.user(ALICE, "Alice")
        await referrer.send("/start")
        await boris.send(f"/start ref_{BORIS}")
        await alice.send(f"/start {REFERRER}")
        await alice.send(f"/start ref_{BORIS}")
        async with pg_uow() as uow:
            boris_row, alice_row = await uow.users.get(BORIS), await uow.users.get(ALICE)
        assert boris_row is not None
        assert alice_row is not None
        assert boris_row.referrer_id is None
        assert alice_row.referrer_id == REFERRER


async def test_my_orders_are_paginated_and_private(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    t = Texts("en")
    await add_product(pg_uow, "guide", ProductKind.UNLIMITED, price="1.00")
    async with bot_stack(pg_url) as stack:
        alice, boris = stack.user(ALICE, "Alice"), stack.user(BORIS, "Boris")
        await alice.send("/start")
        await boris.send("/start")
        await credit(pg_uow, ALICE, "7.00")
        async with pg_uow() as uow:
            for n in range(7):
                await purchase(uow, user_id=ALICE, sku="guide", request_key=f"seed:{n}")
            await uow.commit()

        await alice.press(t("menu.orders"))
        first = [label for label in alice.buttons() if "·" in label]
        assert [label.split(" · ")[0] for label in first] == ["#7", "#6", "#5", "#4", "#3"]
        assert plain(t("common.next")) in alice.buttons()
        assert plain(t("common.prev")) not in alice.buttons()
        await alice.press(t("common.next"))
        assert alice.last_text() == plain(t("orders.title", page=2))
        second = [label for label in alice.buttons() if "·" in label]
        assert [label.split(" · ")[0] for label in second] == ["#2", "#1"]
        assert plain(t("common.next")) not in alice.buttons()
        await alice.press(t("common.prev"))
        assert alice.buttons()[0].startswith("#7 ·")

        # Boris is handed a button for Alice's order (forged or forwarded): "not found"
        await stack.bot.send_message(
            BORIS, "old", reply_markup=rows([button("peek", OrderCB(order_id=1))])
        )
        await stack.idle()
        await boris.press("peek")
        assert boris.last_text() == plain(t("orders.unknown"))
        assert not any("content of guide" in text for text in boris.bot_texts())

        # a user without orders
        await boris.send("/start")
        await boris.press(t("menu.orders"))
        assert boris.last_text() == plain(t("orders.empty"))
        assert_api_calls_ok(stack)


async def test_support_without_any_admin_is_unavailable(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    t = Texts("en")
    async with bot_stack(pg_url) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(t("menu.support"))
        assert alice.last_text() == plain(t("support.unavailable"))


async def test_support_cancel_and_files(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    t = Texts("en")
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin, alice = stack.user(ADMIN, "Admin"), stack.user(ALICE, "Alice & <Co>")
        await admin.send("/start")
        await alice.send("/start")

        await alice.press(t("menu.support"))
        await alice.press(t("common.cancel"))
        assert alice.last_text() == plain(t("menu.title"))
        await alice.send("not for support")
        assert alice.last_text() == plain(t("unknown.text"))
        await alice.press(t("menu.support"))
        await alice.send("/start")  # /start leaves the support dialog too
        await alice.send("not for support either")
        assert alice.last_text() == plain(t("unknown.text"))
        assert len(admin.messages(sender="bot")) == 1  # only the welcome

        # a file goes to support with the tagged header as its caption
        await alice.press(t("menu.support"))
        stack.emulator.send_document(ALICE, "log.txt", b"trace", "text/plain", caption="see <this>")
        await stack.idle()
        forwarded = admin.messages(sender="bot")[-1]
        assert forwarded.document is not None
        assert forwarded.document["file_name"] == "log.txt"
        assert (forwarded.caption or "").startswith(f"#u{ALICE} ")
        assert "Alice & <Co>" in (forwarded.caption or "")
        assert (forwarded.caption or "").endswith("see <this>")

        # a reply to an untagged bot message, or to nothing, reaches no customer
        seen = len(alice.messages(sender="bot"))
        await admin.send("a note to self")
        await admin.send("hello?", reply_to=admin.messages(sender="bot")[0].message_id)
        assert len(alice.messages(sender="bot")) == seen

        await admin.send("Got it, thanks", reply_to=forwarded.message_id)
        assert alice.last_text() == plain(t("support.reply", text="Got it, thanks"))

        # the user blocked the bot: the admin learns the answer was not delivered
        stack.emulator.block(ALICE)
        await stack.idle()
        await admin.send("Anything else?", reply_to=forwarded.message_id)
        assert admin.last_text() == plain(t("support.reply_failed", user_id=ALICE))


async def test_support_location_both_ways(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    t = Texts("en")
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin, alice = stack.user(ADMIN, "Admin"), stack.user(ALICE, "Alice", username="alice")
        await admin.send("/start")
        await alice.send("/start")

        # no caption to carry the tag: a tagged header first, then the copy replying to it
        await alice.press(t("menu.support"))
        await alice.send_location(59.9386, 30.3141)
        assert alice.last_text() == plain(t("support.sent"))
        header, copy = admin.messages(sender="bot")[-2:]
        assert (header.text or "").startswith(f"#u{ALICE} ")
        assert (header.text or "").endswith(plain(t("support.media_follows")))
        assert copy.location == {"latitude": 59.9386, "longitude": 30.3141}
        assert copy.reply_to_message_id == header.message_id

        await admin.send_location(55.7539, 37.6208, reply_to=header.message_id)
        title, answer = alice.messages(sender="bot")[-2:]
        assert title.text == plain(t("support.reply_title"))
        assert answer.location == {"latitude": 55.7539, "longitude": 37.6208}
        assert admin.last_text() == plain(t("support.reply_sent", user_id=ALICE))
        assert_api_calls_ok(stack)
        assert len(stack.emulator.calls("copyMessage")) == 2
