"""End-to-end admin flows: the real Dispatcher and aiogram Bot over HTTP against the
Telegram Bot API emulator, on real PostgreSQL."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from shopbot.bot.callbacks import RefundKind
from shopbot.bot.stats_chart import HEIGHT_PX, WIDTH_PX
from shopbot.bot.texts import Texts
from shopbot.domain.broadcasts.models import BroadcastStatus
from shopbot.domain.catalog.models import LocalizedText, ProductKind
from shopbot.domain.catalog.spec import CategorySpec
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.ledger.use_cases import credit_topup
from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.orders.use_cases import fulfil_order, purchase
from shopbot.persistence.models import LedgerTransactionRow
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Emulator, Message
from tests.conftest import add_product
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_customer import plain

ADMIN = 900
ALICE = 1001
BORIS = 1002
EN = Texts("en")
RU = Texts("ru")


@dataclass
class Shop:
    stack: BotStack
    admin: ChatUser
    alice: ChatUser
    boris: ChatUser
    """Russian-speaking."""

    @property
    def uows(self) -> UnitOfWorkFactory:
        return self.stack.uows

    @property
    def emu(self) -> Emulator:
        return self.stack.emulator


@asynccontextmanager
async def open_shop(pg_url: str, mode: str, **options: Any) -> AsyncIterator[Shop]:
    async with bot_stack(pg_url, mode=mode, admin_ids=[ADMIN], **options) as stack:
        yield Shop(
            stack,
            admin=stack.user(ADMIN, "Admin", username="boss"),
            alice=stack.user(ALICE, "Alice", username="alice"),
            boris=stack.user(BORIS, "Boris", language="ru", username="boris"),
        )


@pytest.fixture
async def shop(pg_url: str, pg_uow: UnitOfWorkFactory) -> AsyncIterator[Shop]:
    # Webhook mode: an update counts as handled when the bot answered its delivery, so
    # waiting for the bot is exact (polling mode has to guess from a quiet period). The
    # journeys parametrized over both modes below cover polling.
    async with open_shop(pg_url, "webhook") as opened:
        yield opened


def last(user: ChatUser) -> Message:
    found = user.messages(sender="bot")
    assert found, f"no bot message for {user.id}"
    return found[-1]


async def balance(shop: Shop, user_id: int) -> Decimal:
    async with shop.uows() as uow:
        return await uow.ledger.balance(user_account(user_id))


async def fund(shop: Shop, user_id: int, amount: str) -> None:
    """Credit a registered user (as a Heleket top-up would)."""
    async with shop.uows() as uow:
        await credit_topup(
            uow,
            user_id=user_id,
            amount=Decimal(amount),
            provider=SystemAccount.HELEKET,
            idempotency_key=f"test:{user_id}:{uuid.uuid4()}",
            memo="test top-up",
        )
        await uow.commit()


async def open_admin(shop: Shop, section: str) -> None:
    await shop.admin.send("/admin")
    await shop.admin.press(EN(section))


async def start(*users: ChatUser) -> None:
    for user in users:
        await user.send("/start")


# --- access ------------------------------------------------------------------------------


async def test_non_admins_get_nothing_from_admin_handlers(shop: Shop) -> None:
    await shop.alice.send("/admin")
    assert shop.alice.last_text() == EN("unknown.text")
    assert not any(data.startswith("adm") for data in last(shop.alice).callback_data())

    await shop.admin.send("/admin")
    assert shop.admin.last_text().startswith("🛠 Admin")
    assert "adm:stats" in last(shop.admin).callback_data()


async def test_a_command_abandons_an_admin_dialog(shop: Shop) -> None:
    await open_admin(shop, "admin.section.users")
    await shop.admin.send("/start")
    assert shop.admin.last_text().startswith("Welcome to the shop")
    await shop.admin.send(str(ALICE))  # no longer a lookup
    assert shop.admin.last_text() == EN("unknown.text")

    await open_admin(shop, "admin.section.payments")
    await shop.admin.send("/cancel")
    assert shop.admin.last_text().startswith(EN("admin.cancelled"))
    await shop.admin.send("99999999999999999999999")  # no longer a lookup either
    assert shop.admin.last_text() == EN("unknown.text")


# --- stats -------------------------------------------------------------------------------


async def test_stats_after_purchases(shop: Shop) -> None:
    await start(shop.alice, shop.boris)
    await fund(shop, ALICE, "50.00")
    await fund(shop, BORIS, "50.00")
    await add_product(shop.uows, "key", price="7.50", stock=["K1", "K2", "K3"])
    for user_id, key in ((ALICE, "a1"), (ALICE, "a2"), (BORIS, "b1")):
        async with shop.uows() as uow:
            await purchase(uow, user_id=user_id, sku="key", request_key=key)
            await uow.commit()

    await shop.admin.send("/admin")
    menu = last(shop.admin)
    await shop.admin.press(EN("admin.section.stats"))

    text = shop.admin.last_text()
    assert "Users: 3" in text  # admin, Alice, Boris
    assert "Today: new users 3 · orders 3 · revenue 22.50 USD" in text
    assert "30 days: new users 3 · orders 3 · revenue 22.50 USD" in text
    assert "Pending top-ups: 0 (0.00 USD)" in text
    # The figures are the caption of a chart; the menu it was opened from is gone.
    screen = last(shop.admin)
    assert screen.photo is not None
    assert text == screen.caption
    assert menu.message_id not in [m.message_id for m in shop.admin.messages()]
    days = chart_lines(shop, screen)
    assert len(days) == 30
    assert days[-1] == f"{datetime.now(UTC).date().isoformat()} orders=3 revenue=22.50"
    assert all(line.endswith("orders=0 revenue=0.00") for line in days[:-1])

    await shop.admin.press(EN("admin.refresh"))  # a new chart replaces the old one
    refreshed = last(shop.admin)
    assert refreshed.photo is not None
    assert refreshed.message_id != screen.message_id
    assert screen.message_id not in [m.message_id for m in shop.admin.messages(sender="bot")]

    await shop.admin.press(EN("admin.menu"))  # a photo cannot become text: a new message
    assert shop.admin.last_text() == plain(EN("admin.title"))
    assert last(shop.admin).message_id > refreshed.message_id


def chart_lines(shop: Shop, message: Message) -> list[str]:
    """The figures a chart photo plotted (its PNG `Description`), checked to be a PNG of
    the chart's size as Telegram stored it."""
    assert message.photo is not None
    (size,) = message.photo
    assert (size["width"], size["height"]) == (WIDTH_PX, HEIGHT_PX)
    stored = shop.emu.files[size["file_id"]]
    assert stored.content.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(BytesIO(stored.content)) as image:
        image.load()
        assert image.size == (WIDTH_PX, HEIGHT_PX)
        description: str = dict(getattr(image, "text", {}))["Description"]
    return description.splitlines()


# --- products ----------------------------------------------------------------------------


async def test_create_a_product_through_the_dialog_then_a_customer_buys_it(shop: Shop) -> None:
    await start(shop.alice)
    await fund(shop, ALICE, "20.00")
    await open_admin(shop, "admin.section.products")
    await shop.admin.press(EN("admin.products.new"))
    assert "Send the SKU" in shop.admin.last_text()

    await shop.admin.send("bad sku!")
    # Translated, saying what a SKU may be; no regex reaches the shop owner.
    assert shop.admin.last_text() == "⚠️ " + shown("refusal.sku")
    assert "[A-Za-z" not in shop.admin.last_text()
    await shop.admin.send("guide-1")
    await shop.admin.press("Unlimited")
    await shop.admin.send("Гайд")
    await shop.admin.send("The <Guide>")
    await shop.admin.press(EN("admin.product.skip"))
    await shop.admin.send("How to win")
    await shop.admin.send("4.5055")
    assert shop.admin.last_text() == plain(EN("amount.decimals", text="4.5055"))
    await shop.admin.send("1,500")  # an admin's 1,500 is never saved as 1.50
    assert shop.admin.last_text() == plain(EN("amount.ambiguous", text="1,500"))
    assert "Decimal(" not in shop.admin.last_text()
    await shop.admin.send("4.50")
    await shop.admin.send("https://example.com/guide")
    await shop.admin.press(EN("admin.product.no_category"))
    review = shop.admin.last_text()
    assert "Title (en): The <Guide>" in review  # escaped in HTML, shown as typed
    await shop.admin.press(EN("admin.product.save"))
    assert "Saved guide-1" in shop.admin.last_text()

    async with shop.uows() as uow:
        product = await uow.catalog.get_product("guide-1")
    assert product is not None
    assert (product.kind, product.price, product.is_active) == (
        ProductKind.UNLIMITED,
        Decimal("4.50"),
        True,
    )
    assert (product.title.ru, product.title.en, product.description.en) == (
        "Гайд",
        "The <Guide>",
        "How to win",
    )

    await shop.alice.press(EN("menu.catalog"))
    await shop.alice.press(EN("catalog.other"))
    await shop.alice.press("The <Guide>")
    await shop.alice.press("Buy for 4.50")
    await shop.alice.press(EN("buy.confirm_button"))
    assert "https://example.com/guide" in shop.alice.last_text()
    assert await balance(shop, ALICE) == Decimal("15.50")


async def test_edit_keeps_unchanged_fields_and_moves_to_a_category(shop: Shop) -> None:
    long_slug = "c" * 64  # callback data carries the id: a slug would not fit in 64 bytes
    async with shop.uows() as uow:
        for position, slug in ((0, "first"), (7, long_slug)):
            title = LocalizedText(ru=f"Кат {position}", en=f"Cat {position}")
            await uow.catalog.upsert_category(CategorySpec(slug, title, position))
        await uow.commit()
    product_id = await add_product(shop.uows, "edit-me", price="3.00")
    await open_admin(shop, "admin.section.products")
    await shop.admin.press("edit-me")
    await shop.admin.press(EN("admin.product.edit"))
    await shop.admin.press(EN("admin.product.keep"))  # title ru
    await shop.admin.send("Edited")  # title en
    for _ in range(2):  # descriptions
        await shop.admin.press(EN("admin.product.keep"))
    await shop.admin.send("3.25")
    await shop.admin.press("Cat 7")
    assert f"Category: {long_slug}" in shop.admin.last_text()
    await shop.admin.press(EN("admin.product.save"))
    async with shop.uows() as uow:
        product = await uow.catalog.get_product_by_id(product_id)
        categories = {c.slug: c for c in await uow.catalog.list_categories()}
    assert product is not None
    assert (product.title.ru, product.title.en, product.price, product.is_active) == (
        "Товар edit-me",
        "Edited",
        Decimal("3.25"),
        True,
    )
    assert product.category_id == categories[long_slug].id
    assert categories[long_slug].position == 7  # the category itself is untouched

    # Editing again keeps the category.
    await shop.admin.press(EN("admin.product.edit"))
    for _ in range(5):
        await shop.admin.press(EN("admin.product.keep"))
    await shop.admin.press(EN("admin.product.keep"))
    await shop.admin.press(EN("admin.product.save"))
    async with shop.uows() as uow:
        again = await uow.catalog.get_product_by_id(product_id)
    assert again is not None
    assert again.category_id == categories[long_slug].id


async def test_hiding_a_product_removes_it_from_the_catalog(shop: Shop) -> None:
    await start(shop.alice)
    await add_product(shop.uows, "hide-me", kind=ProductKind.MANUAL)
    await shop.alice.press(EN("menu.catalog"))
    await shop.alice.press(EN("catalog.other"))
    assert any("Product hide-me" in b for b in shop.alice.buttons())

    await open_admin(shop, "admin.section.products")
    await shop.admin.press("hide-me")
    await shop.admin.press(EN("admin.product.deactivate"))
    assert EN("admin.product.inactive") in shop.admin.last_text()

    await shop.alice.send("/start")
    await shop.alice.press(EN("menu.catalog"))
    assert shop.alice.last_text() == EN("catalog.empty")

    await shop.admin.press(EN("admin.product.activate"))
    async with shop.uows() as uow:
        product = await uow.catalog.get_product("hide-me")
    assert product is not None
    assert product.is_active


async def test_stock_upload_with_a_txt_file_and_duplicates_refused(shop: Shop) -> None:
    await add_product(shop.uows, "keys", stock=["OLD-SECRET"])
    await open_admin(shop, "admin.section.products")
    await shop.admin.press("keys")
    await shop.admin.press(EN("admin.product.upload"))

    await shop.admin.send_document("keys.csv", b"X-1\n")
    assert shop.admin.last_text().startswith("Please send a .txt file")
    await shop.admin.send("not a file")
    assert shop.admin.last_text().startswith("Please send a .txt file")

    await shop.admin.send_document("keys.txt", b"NEW-1\nNEW-2\n\nNEW-3\n")
    assert shop.admin.last_text() == "✅ Added 3 items to keys; 4 available."

    await shop.admin.press(EN("admin.product.back"))
    await shop.admin.press(EN("admin.product.upload"))
    await shop.admin.send_document("more.txt", b"NEW-4\nOLD-SECRET\nNEW-2\n")
    refusal = shop.admin.last_text()
    assert "Nothing was added" in refusal
    assert refusal.splitlines()[1:] == [
        "line 2: this item is already in stock",
        "line 3: this item is already in stock",
    ]
    assert "OLD-SECRET" not in refusal
    assert "NEW-2" not in refusal
    await shop.admin.send_document("dupes.txt", b"A-1\nA-1\n")
    assert "line 2: duplicate of line 1" in shop.admin.last_text()
    assert "A-1" not in shop.admin.last_text()
    async with shop.uows() as uow:
        product = await uow.catalog.get_product("keys")
        assert product is not None
        assert await uow.stock.available(product.id) == 4


async def test_stock_upload_reads_files_as_people_save_them(shop: Shop) -> None:
    await add_product(shop.uows, "keys", stock=["OLD-SECRET"])
    await open_admin(shop, "admin.section.products")
    await shop.admin.press("keys")
    await shop.admin.press(EN("admin.product.upload"))

    # "UTF-8 with BOM" + CRLF: the BOM is no part of the first key, so it is a duplicate
    await shop.admin.send_document("win.txt", b"\xef\xbb\xbfOLD-SECRET\r\nNEW-1\r\n")
    refusal = shop.admin.last_text()
    assert "Nothing was added" in refusal
    assert "line 1: this item is already in stock" in refusal
    assert "OLD-SECRET" not in refusal
    await shop.admin.send_document("nul.txt", b"NEW-1\nNEW-\x002\n")
    assert "line 2: control character U+0000" in shop.admin.last_text()
    assert "NEW-" not in shop.admin.last_text()
    await shop.admin.send_document("u16.txt", "\ufeffNEW-1\r\nNEW-2\r\n".encode("utf-16-le"))
    assert shop.admin.last_text() == "✅ Added 2 items to keys; 3 available."
    async with shop.uows() as uow:
        product = await uow.catalog.get_product("keys")
        assert product is not None
        assert await uow.stock.available(product.id) == 3


# --- users -------------------------------------------------------------------------------


async def test_user_lookup_and_balance_adjustment(shop: Shop) -> None:
    await start(shop.alice)
    await fund(shop, ALICE, "5.00")
    await open_admin(shop, "admin.section.users")
    await shop.admin.send("@nobody")
    assert "No user matches" in shop.admin.last_text()
    await shop.admin.send("@Alice")
    card = shop.admin.last_text()
    assert f"User {ALICE} @alice" in card
    assert "Balance: 5.00 USD" in card
    assert "top-up" in card

    await shop.admin.press(EN("admin.users.adjust"))
    await shop.admin.press(EN("admin.adjust.credit"))
    await shop.admin.send("-3")
    assert shop.admin.last_text() == plain(EN("amount.not_positive"))
    await shop.admin.send("1.500")
    assert shop.admin.last_text() == plain(EN("amount.ambiguous", text="1.500"))
    assert "Decimal(" not in shop.admin.last_text()
    await shop.admin.send("10.25")
    await shop.admin.send("goodwill <bonus>")
    assert "Add 10.25 USD to @alice (id 1001)?" in shop.admin.last_text()
    await shop.admin.press(EN("admin.adjust.confirm"))
    assert "Balance of @alice (id 1001): 15.25 USD" in shop.admin.last_text()
    assert await balance(shop, ALICE) == Decimal("15.25")
    async with shop.uows() as uow:
        posting = (
            await uow.session.execute(
                select(LedgerTransactionRow.actor, LedgerTransactionRow.memo).where(
                    LedgerTransactionRow.kind == "adjustment"
                )
            )
        ).one()
    assert tuple(posting) == (f"tg-admin:{ADMIN}", "goodwill <bonus>")

    # A debit beyond the balance is refused and changes nothing.
    await shop.admin.press(EN("admin.users.back"))
    await shop.admin.press(EN("admin.users.adjust"))
    await shop.admin.press(EN("admin.adjust.debit"))
    await shop.admin.send("100")
    await shop.admin.send("typo")
    await shop.admin.press(EN("admin.adjust.confirm"))
    assert "Refused: cannot take 100.00 USD, the balance is 15.25 USD" in shop.admin.last_text()
    assert await balance(shop, ALICE) == Decimal("15.25")

    # By id, then a debit that fits.
    await shop.admin.send("/admin")
    await shop.admin.press(EN("admin.section.users"))
    await shop.admin.send(str(ALICE))
    await shop.admin.press(EN("admin.users.adjust"))
    await shop.admin.press(EN("admin.adjust.debit"))
    await shop.admin.send("0.25")
    await shop.admin.send("correction")
    await shop.admin.press(EN("admin.adjust.confirm"))
    assert await balance(shop, ALICE) == Decimal("15.00")


async def test_a_double_tap_on_confirm_adjusts_once(shop: Shop) -> None:
    await start(shop.alice)
    await open_admin(shop, "admin.section.users")
    await shop.admin.send(str(ALICE))
    await shop.admin.press(EN("admin.users.adjust"))
    await shop.admin.press(EN("admin.adjust.credit"))
    await shop.admin.send("1")
    await shop.admin.send("bonus")
    confirm = last(shop.admin)
    data = next(d for d in confirm.callback_data() if d.startswith("admd:adjust_ok"))
    shop.emu.press(ADMIN, confirm.message_id, data)
    shop.emu.press(ADMIN, confirm.message_id, data)
    await shop.stack.idle()
    assert await balance(shop, ALICE) == Decimal("1.00")


# --- payments, refunds and manual orders -------------------------------------------------


async def test_order_refund_to_balance(shop: Shop) -> None:
    await start(shop.boris)
    await fund(shop, BORIS, "10.00")
    await add_product(shop.uows, "key", price="6.00", stock=["K1"])
    async with shop.uows() as uow:
        order = (await purchase(uow, user_id=BORIS, sku="key", request_key="r1")).order
        await uow.commit()
    assert await balance(shop, BORIS) == Decimal("4.00")

    await open_admin(shop, "admin.section.payments")
    await shop.admin.send("nothing-like-this")
    assert "Nothing matches" in shop.admin.last_text()
    await shop.admin.send(str(order.id))
    assert f"Order #{order.id}" in shop.admin.last_text()
    assert "Status: delivered" in shop.admin.last_text()
    assert "Customer: @boris (id 1002)" in shop.admin.last_text()
    await shop.admin.press(EN("admin.order.refund"))
    # One tap only asks: what, how much, to whom.
    assert shop.admin.last_text() == shown(
        "money_admin.order_confirm",
        order_id=order.id,
        title="Product key",
        amount="6.00",
        currency="USD",
        who="@boris (id 1002)",
    )
    assert await balance(shop, BORIS) == Decimal("4.00")
    confirm, data = shop.admin.message_with_button(EN("money_admin.confirm"))
    tap(shop, ADMIN, confirm, data)
    tap(shop, ADMIN, confirm, data)  # a double tap: both presses queued, refunds once
    await shop.stack.idle()

    assert f"Order #{order.id} refunded: 6.00 USD" in shop.admin.bot_texts()[-1]
    assert "Status: refunded" in shop.admin.last_text()
    assert EN("admin.order.refund") not in shop.admin.buttons()
    assert await balance(shop, BORIS) == Decimal("10.00")
    assert shop.boris.last_text().startswith(f"↩️ Заказ №{order.id}")  # in the buyer's language
    assert "6.00 USD" in shop.boris.last_text()
    async with shop.uows() as uow:
        refunded = await uow.orders.get(order.id)
    assert refunded is not None
    assert refunded.status is OrderStatus.REFUNDED
    assert await actor_of(shop, f"order:{order.id}:refund") == f"tg-admin:{ADMIN}"
    assert RU("common.menu") in shop.boris.buttons()  # the refund notice offers a next step


def tap(shop: Shop, user_id: int, message: Message, data: str) -> None:
    """Queue a callback query as Telegram would deliver it, whatever buttons the message
    shows now: a second tap before the first was handled, or a forged button."""
    state = shop.emu.bot()
    shop.emu.enqueue(
        state,
        "callback_query",
        {
            "id": uuid.uuid4().hex,
            "from": shop.emu.user(user_id).to_api(),
            "message": shop.emu.message_json(state, message),
            "chat_instance": "1",
            "data": data,
        },
    )


def shown(key: str, **params: object) -> str:
    """The English text `key` as the client shows it (tags gone, entities decoded)."""
    return plain(EN(key, **params))


async def actor_of(shop: Shop, idempotency_key: str) -> str | None:
    async with shop.uows() as uow:
        return await uow.session.scalar(  # type: ignore[attr-defined]
            select(LedgerTransactionRow.actor).where(
                LedgerTransactionRow.idempotency_key == idempotency_key
            )
        )


async def test_order_refund_cancel_and_forged_confirm_change_nothing(shop: Shop) -> None:
    from shopbot.bot.money_confirm import MoneyCB

    await start(shop.alice)
    await fund(shop, ALICE, "10.00")
    await add_product(shop.uows, "key", price="6.00", stock=["K1"])
    async with shop.uows() as uow:
        order = (await purchase(uow, user_id=ALICE, sku="key", request_key="r1")).order
        await uow.commit()
    await open_admin(shop, "admin.section.payments")
    await shop.admin.send(str(order.id))
    await shop.admin.press(EN("admin.order.refund"))
    confirm, data = shop.admin.message_with_button(EN("money_admin.confirm"))
    await shop.admin.press(EN("common.cancel"))
    assert shop.admin.last_text() == EN("money_admin.cancelled")
    assert EN("money_admin.back_to_payment") in shop.admin.buttons()
    tap(shop, ADMIN, confirm, data)  # the cancelled confirm is dead
    await shop.stack.idle()
    assert await balance(shop, ALICE) == Decimal("4.00")

    # Alice forges the admin's confirm button (even with a nonce she guessed right).
    forged = MoneyCB(action=RefundKind.ORDER, ref=order.id, nonce=MoneyCB.unpack(data).nonce).pack()
    tap(shop, ALICE, last(shop.alice), forged)
    await shop.stack.idle()
    assert await balance(shop, ALICE) == Decimal("4.00")
    async with shop.uows() as uow:
        unchanged = await uow.orders.get(order.id)
    assert unchanged is not None
    assert unchanged.status is OrderStatus.DELIVERED


async def test_topup_lookup_by_order_id_and_uuid(shop: Shop) -> None:
    await start(shop.alice)
    async with shop.uows() as uow:
        invoice = await uow.topups.create(
            user_id=ALICE,
            order_id="topup-1001-abc",
            request_key="k",
            amount=Decimal("12.00"),
            currency="USD",
        )
        assert invoice is not None
        await uow.topups.attach_gateway(
            invoice.id, uuid="uuid-123", url=None, expires_at=None, status="check"
        )
        await uow.commit()
    await open_admin(shop, "admin.section.payments")
    await shop.admin.send("topup-1001-abc")
    assert "Top-up topup-1001-abc" in shop.admin.last_text()
    assert "State: pending (Heleket: check)" in shop.admin.last_text()
    assert "Customer: @alice (id 1001)" in shop.admin.last_text()
    await shop.admin.press(EN("admin.payments.another"))
    await shop.admin.send("uuid-123")
    assert "Heleket uuid: uuid-123" in shop.admin.last_text()
    assert EN("admin.topup.refund") not in shop.admin.buttons()  # nothing credited yet
    await shop.admin.press(EN("admin.payments.another"))
    await shop.admin.send("99999999999999999999")  # beyond BIGINT: not an order number
    assert "Nothing matches" in shop.admin.last_text()


async def test_stars_payment_lookup_offers_the_refund(shop: Shop) -> None:
    await start(shop.alice)
    async with shop.uows() as uow:
        payment = await uow.stars.record(
            charge_id="stars-charge-77",
            user_id=ALICE,
            stars=250,
            amount=Decimal("5.00"),
            payload="st1:1001:500:0:250",
            product_id=None,
        )
        await uow.commit()
    assert payment is not None
    await open_admin(shop, "admin.section.payments")
    await shop.admin.send("stars-charge-77")
    assert "250 XTR = 5.00 USD" in shop.admin.last_text()
    assert "Customer: @alice (id 1001)" in shop.admin.last_text()
    assert f"rf:stars:{payment.id}" in last(shop.admin).callback_data()

    await shop.admin.press(EN("admin.payments.user"))
    await shop.admin.press(EN("admin.users.stars"))
    assert shop.admin.last_text() == "⭐ Stars payments of @alice (id 1001):"
    await shop.admin.press("250 XTR")
    assert "Charge: stars-charge-77" in shop.admin.last_text()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_manual_order_fulfilment_notifies_the_buyer(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    async with open_shop(pg_url, mode) as shop:
        await fulfil_journey(shop)


async def boris_orders_a_manual_product(shop: Shop) -> None:
    """Boris (ru, 20.00 on his balance) buys the made-to-order product "custom" (8.00)."""
    await start(shop.admin, shop.boris)
    await fund(shop, BORIS, "20.00")
    await add_product(shop.uows, "custom", kind=ProductKind.MANUAL, price="8.00")
    await shop.boris.press(RU("menu.catalog"))
    await shop.boris.press(RU("catalog.other"))
    await shop.boris.press("Товар custom")
    await shop.boris.press("8.00")
    await shop.boris.press(RU("buy.confirm_button"))


async def fulfil_journey(shop: Shop) -> None:
    await boris_orders_a_manual_product(shop)
    assert shop.boris.last_text().startswith("✅ Заказ №")

    announcement = shop.admin.last_text()
    assert "New order" in announcement
    assert "from @boris (id 1002)." in announcement
    await shop.admin.press(EN("admin.mark_fulfilled"))
    assert "Send the note or content" in shop.admin.last_text()
    await shop.admin.send("Your account: login <b>boris</b>")
    assert "fulfilled; the buyer has been told" in shop.admin.last_text()
    told = shop.boris.last_text()
    assert told.startswith("✅ Ваш заказ №")
    assert "Your account: login <b>boris</b>" in told  # shown as sent, not as markup

    # A second press finds the order already fulfilled.
    await shop.admin.press(EN("admin.mark_fulfilled"))
    async with shop.uows() as uow:
        orders = await uow.orders.list_for_user(BORIS, 5)
    assert orders[0].status is OrderStatus.FULFILLED
    assert orders[0].delivery == "Your account: login <b>boris</b>"


# --- broadcast ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_broadcast_honours_429_and_marks_blocked_users(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    async with open_shop(pg_url, mode) as shop:
        await broadcast_journey(shop)


async def broadcast_journey(shop: Shop) -> None:
    customers = [shop.stack.user(user_id) for user_id in range(5001, 5009)]
    await start(shop.admin, *customers)
    shop.emu.block(5003)

    await open_admin(shop, "admin.section.broadcast")
    assert "all 9 reachable users" in shop.admin.last_text()
    await shop.admin.send("Big <sale> & more")
    assert shop.admin.last_text() == plain(EN("admin.broadcast.ask_buttons"))
    await shop.admin.send("Shop https://example.com")
    assert shop.admin.last_text() == plain(EN("admin.broadcast.bad_buttons.format", line=1))
    await shop.admin.send("Shop - https://example.com/sale")
    test_send, confirm = shop.admin.messages(sender="bot")[-2:]
    assert test_send.text == "Big <sale> & more"  # the test send: exactly what users get
    assert test_send.buttons == [[{"text": "Shop", "url": "https://example.com/sale"}]]
    assert confirm.text == EN("admin.broadcast.test_sent", count=9)
    shop.emu.set_flood(per_chat=None, global_rate=3)
    await shop.admin.press(EN("admin.broadcast.send"))

    def finished() -> str:
        texts = shop.admin.bot_texts()
        return next((t for t in texts if t.startswith("📣 Broadcast #") and "finished" in t), "")

    done = await shop.emu.wait_for(finished, timeout=30)
    assert done.endswith("▓▓▓▓▓▓▓▓▓▓ 100 %\nSent 8 · blocked 1 · failed 0 · left 0"), done
    # The broadcast's own sends (the progress message to the admin competes for the rate)
    calls = [c for c in shop.emu.calls("sendMessage") if c.params["text"].startswith("Big")]
    refusals = [c for c in calls if c.error_code == 429]
    assert refusals, "the flood limit should have answered 429 at least once"
    for refusal in refusals:  # the same user again, and only after retry_after
        retry_after = int(re.findall(r"retry after (\d+)", refusal.description or "")[0])
        chat = refusal.params["chat_id"]
        retry = next(c for c in calls if c.seq > refusal.seq and c.params["chat_id"] == chat)
        assert retry.at >= refusal.at + retry_after - 0.05
    for customer in customers:
        got = [t for t in customer.bot_texts() if t == "Big <sale> & more"]
        assert got == ([] if customer.id == 5003 else ["Big <sale> & more"]), customer.id
    async with shop.uows() as uow:
        assert await uow.users.unreachable_since(5003) is not None
        assert await uow.users.count_reachable() == 8
    shop.emu.set_flood(per_chat=None, global_rate=None)
    await open_admin(shop, "admin.section.users")
    await shop.admin.send("5003")
    assert "blocked the bot" in shop.admin.last_text()


async def test_the_admin_cancels_a_running_broadcast(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook", broadcast_per_second=1) as shop:
        customers = [shop.stack.user(user_id) for user_id in range(6001, 6011)]
        await start(shop.admin, *customers)
        await open_admin(shop, "admin.section.broadcast")
        await shop.admin.send("Soon")
        await shop.admin.press(EN("admin.broadcast.no_buttons"))
        await shop.admin.press(EN("admin.broadcast.send"))
        await shop.admin.press(EN("admin.broadcast.stop"))

        async with shop.uows() as uow:
            job = await uow.broadcasts.get(1)
            assert job is not None
            assert job.status is BroadcastStatus.CANCELLED
        progress = next(
            m
            for m in shop.admin.messages(sender="bot")
            if (m.text or "").startswith("📣 Broadcast #1")
        )
        assert "cancelled" in (progress.text or "")
        assert progress.buttons == []  # no Cancel once it stopped
        await asyncio.sleep(3)  # the worker's next look (it polls every 2 s) sends nothing
        got = [c.id for c in customers if "Soon" in c.bot_texts()]
        assert len(got) < len(customers)  # 11 recipients at one a second, cancelled at once
        async with shop.uows() as uow:
            left = (await uow.broadcasts.progress(1)).left
        assert left > 0  # never sent: the job stays cancelled


async def test_a_document_broadcast_without_buttons(shop: Shop) -> None:
    await start(shop.admin, shop.alice)
    await open_admin(shop, "admin.section.broadcast")
    await shop.admin.send_document("price.txt", b"prices", "text/plain")
    await shop.admin.press(EN("admin.broadcast.no_buttons"))
    test_send = shop.admin.messages(sender="bot")[-2]
    assert test_send.document is not None
    assert test_send.buttons == []
    await shop.admin.press(EN("admin.broadcast.send"))

    def delivered() -> list[dict[str, Any]]:
        return [m.document for m in shop.alice.messages(sender="bot") if m.document is not None]

    [document] = await shop.emu.wait_for(delivered, timeout=30)
    assert document["file_id"] == test_send.document["file_id"]
    assert document["file_name"] == "price.txt"


async def test_a_note_for_an_order_fulfilled_meanwhile_is_refused_in_words(shop: Shop) -> None:
    await start(shop.admin, shop.alice)
    await fund(shop, ALICE, "20.00")
    await add_product(shop.uows, "custom", kind=ProductKind.MANUAL, price="8.00")
    async with shop.uows() as uow:
        order = (await purchase(uow, user_id=ALICE, sku="custom", request_key="m1")).order
        await uow.commit()
    await open_admin(shop, "admin.section.payments")
    await shop.admin.send(str(order.id))
    await shop.admin.press(EN("admin.mark_fulfilled"))
    async with shop.uows() as uow:  # another admin (or the CLI) fulfils it first
        await fulfil_order(uow, order.id, note="done elsewhere")
        await uow.commit()
    await shop.admin.send("late note")
    refused = shop.admin.last_text()
    assert refused == "⚠️ " + shown("refusal.order_state")
    assert "awaiting" not in refused
    assert f"order {order.id}" not in refused
    assert EN("admin.menu") in shop.admin.buttons()
