"""Texts at the limits, end to end (real aiogram Bot and Dispatcher, the Telegram
emulator counting as Telegram does: parsed text, UTF-16 code units): what was paid for
always reaches the buyer, and messages holding goods are never edited away."""

from decimal import Decimal
from typing import Any

import pytest

from shopbot.bot.payment_notices import complete_purchase_after_topup
from shopbot.bot.texts import Texts
from shopbot.domain.catalog.limits import MAX_ITEM_LENGTH, MAX_TITLE
from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.domain.catalog.spec import ProductSpec
from shopbot.domain.orders.models import OrderStatus
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Message
from tests.e2e.bot_stack import ChatUser
from tests.e2e.test_bot_admin import (
    Shop,
    boris_orders_a_manual_product,
    fund,
    open_admin,
    open_shop,
    start,
)
from tests.e2e.test_bot_customer import assert_api_calls_ok, plain

EN, RU = Texts("en"), Texts("ru")
ALICE, BORIS = 1001, 1002
EMOJI = "😀"  # 2 UTF-16 code units


async def long_product(uows: UnitOfWorkFactory, sku: str, title: str, item: str) -> int:
    """An active stock product titled `title` (both languages) holding one `item`."""
    spec = ProductSpec(
        sku=sku,
        kind=ProductKind.STOCK,
        title=LocalizedText(ru=title, en=title),
        description=LocalizedText(ru="", en=""),
        price=Decimal("2.00"),
        is_active=True,
        content=None,
        category_slug=None,
    )
    async with uows() as uow:
        product = await uow.catalog.upsert_product(spec, None)
        await uow.stock.add_items(product.id, [item])
        await uow.commit()
        return product.id


def file_text(shop: Shop, message: Message) -> str:
    assert message.document is not None, message.text
    stored = shop.emu.files[message.document["file_id"]]
    assert message.document["file_name"].endswith(".txt")
    return stored.content.decode("utf-8")


def snapshot(message: Message) -> tuple[Any, ...]:
    return (message.text, message.caption, message.document, message.deleted, message.edits)


async def press_under(user: ChatUser, message: Message, label: str) -> None:
    """Press the button labelled `label` on that very message."""
    data = next(b["callback_data"] for row in message.buttons for b in row if label in b["text"])
    await user.press_data(message.message_id, data)


async def buy_from_other(user: ChatUser, t: Texts, title: str) -> None:
    await user.press(t("menu.catalog"))
    await user.press(t("catalog.other"))
    await user.press(title[:20])
    await user.press("2.00")
    await user.press(t("buy.confirm_button"))


@pytest.mark.parametrize(
    ("mode", "language", "title", "item"),
    [
        # the exact report: a 128-character title, one 4000-character item
        ("polling", "en", "T" * MAX_TITLE, "K" * MAX_ITEM_LENGTH),
        # the same at the limits in UTF-16: emoji count 2, Cyrillic 1, & is one character
        ("webhook", "ru", EMOJI * (MAX_TITLE // 2), "ключ&<" + EMOJI * 1997),
    ],
)
async def test_a_long_delivery_reaches_the_buyer_whole_and_stays(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str, language: str, title: str, item: str
) -> None:
    t = Texts(language)
    async with open_shop(pg_url, mode) as shop:
        buyer = shop.alice if language == "en" else shop.boris
        await start(buyer)
        await fund(shop, buyer.id, "5.00")
        await long_product(pg_uow, "long", title, item)

        await buy_from_other(buyer, t, title)
        delivered = buyer.messages(sender="bot")[-1]
        assert file_text(shop, delivered) == item
        async with pg_uow() as uow:
            [order] = await uow.orders.list_for_user(buyer.id, 5)
        assert order.status is OrderStatus.DELIVERED
        assert delivered.caption == plain(t("delivery.file", order_id=order.id, title=title))
        pointer = buyer.messages(sender="bot")[-2]  # the confirmation, now pointing below
        assert pointer.text == plain(t("delivery.below", order_id=order.id, title=title))

        # 🏠 Menu under the goods: the menu opens below, the goods stay as they were
        kept = snapshot(delivered)
        await press_under(buyer, delivered, t("common.menu"))
        assert snapshot(delivered) == kept
        assert buyer.messages(sender="bot")[-1].text == plain(t("menu.title"))

        # My orders shows the long delivery again, as a file, and its buttons keep it
        await buyer.press(t("menu.orders"))
        await buyer.press(f"{order.id} · {title[:10]}")
        again = buyer.messages(sender="bot")[-1]
        assert file_text(shop, again) == item
        kept = snapshot(again)
        await press_under(buyer, again, t("common.back"))
        assert snapshot(again) == kept
        assert buyer.messages(sender="bot")[-1].text == plain(t("orders.title", page=1))
        await press_under(buyer, again, t("common.menu"))
        assert snapshot(again) == kept
        assert buyer.messages(sender="bot")[-1].text == plain(t("menu.title"))
        assert_api_calls_ok(shop.stack)


async def test_a_delivery_that_fits_is_one_message_and_stays(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    item = "Я" * 3000 + EMOJI * 400  # 3800 code units: fits with its frame
    async with open_shop(pg_url, "webhook") as shop:
        await start(shop.alice)
        await fund(shop, ALICE, "5.00")
        await long_product(pg_uow, "fits", "Fits", item)
        await buy_from_other(shop.alice, EN, "Fits")
        delivered = shop.alice.messages(sender="bot")[-1]
        assert delivered.document is None
        assert delivered.text is not None
        assert delivered.text.endswith(item)
        kept = snapshot(delivered)
        await press_under(shop.alice, delivered, EN("common.menu"))
        await shop.alice.press(EN("menu.orders"))
        await shop.alice.press("#1")
        detail = shop.alice.messages(sender="bot")[-1]
        assert detail.text is not None
        assert detail.text.endswith(item)
        assert snapshot(delivered) == kept  # no edit reached the purchase's message
        assert_api_calls_ok(shop.stack)


async def test_the_purchase_after_a_top_up_delivers_a_long_item(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    item = EMOJI * (MAX_ITEM_LENGTH // 2)
    async with open_shop(pg_url, "webhook") as shop:
        await start(shop.alice)
        await fund(shop, ALICE, "2.00")
        product_id = await long_product(pg_uow, "auto", "A" * MAX_TITLE, item)
        async with pg_uow() as uow:
            alice = await uow.users.get(ALICE)
        assert alice is not None
        ctx = shop.stack.ctx
        bot = shop.stack.bot
        await complete_purchase_after_topup(
            bot, ctx, alice, product_id=product_id, payment_ref="e2e-limits-1"
        )
        delivered = shop.alice.messages(sender="bot")[-1]
        assert file_text(shop, delivered) == item
        assert delivered.caption is not None
        assert delivered.caption.startswith(plain(EN("after_topup.heading")))
        kept = snapshot(delivered)
        await press_under(shop.alice, delivered, EN("common.menu"))
        assert snapshot(delivered) == kept
        assert_api_calls_ok(shop.stack)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_broadcast_is_measured_as_telegram_counts_it(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    text = ("&" + "b" * 7) * 334 + "c" * (3000 - 8 * 334)  # 3,000 characters, 334 "&"
    assert (len(text), text.count("&")) == (3000, 334)
    astral = EMOJI * 2048  # 4096 code units: the most a message can hold
    async with open_shop(pg_url, mode) as shop:
        await start(shop.admin, shop.alice)
        for round_, sent in enumerate((text, astral), start=1):
            await open_admin(shop, "admin.section.broadcast")
            await shop.admin.send(sent)
            await shop.admin.press(EN("admin.broadcast.no_buttons"))
            assert shop.admin.bot_texts()[-2] == sent  # the test send, not "too long"
            await shop.admin.press(EN("admin.broadcast.send"))

            def reported(count: int = round_) -> bool:
                texts = shop.admin.bot_texts()
                return (
                    sum(t.startswith("📣 Broadcast #") and "finished" in t for t in texts) >= count
                )

            assert await shop.emu.wait_for(reported, timeout=30)
            assert sent in shop.alice.bot_texts()
        assert_api_calls_ok(shop.stack)


async def test_a_fulfilment_note_at_its_limit_reaches_the_buyer_and_stays(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook") as shop:
        await fulfil_at_the_limit(shop)


async def fulfil_at_the_limit(shop: Shop) -> None:
    await boris_orders_a_manual_product(shop)
    await shop.admin.press(EN("admin.mark_fulfilled"))
    await shop.admin.send(EMOJI * 1751)  # 3502 code units: over the 3500 limit
    assert shop.admin.last_text() == plain(EN("admin.fulfil.too_long", limit=3500))
    note = "&" + EMOJI * 1749 + "я"  # 3500 code units
    await shop.admin.send(note)
    told = shop.boris.messages(sender="bot")[-1]
    assert told.text is not None
    assert told.text.endswith(note)
    kept = snapshot(told)
    await press_under(shop.boris, told, RU("common.menu"))
    assert snapshot(told) == kept
    assert shop.boris.messages(sender="bot")[-1].text == plain(RU("menu.title"))
    assert_api_calls_ok(shop.stack)
