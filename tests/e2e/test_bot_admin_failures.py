"""An admin update that fails after its write (issue 10, one unit of work per update):
the write is committed before any message reports it, Telegram redelivers the failed
update (webhook mode), and the redelivery neither repeats the write nor the message.
Real bot, Telegram emulator with injected 5xx faults, PostgreSQL."""

from decimal import Decimal

from shopbot.domain.orders.models import OrderStatus
from shopbot.domain.orders.use_cases import purchase
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product
from tests.e2e.test_bot_admin import (
    ADMIN,
    BORIS,
    EN,
    Shop,
    balance,
    boris_orders_a_manual_product,
    fund,
    open_admin,
    open_shop,
    start,
)

NOTE = "Your account: login boris, password 7-sea-otters"
STOCK = ("KEY-ALPHA-1", "KEY-BRAVO-2", "KEY-CHARLIE-3")


def failed_deliveries(shop: Shop) -> list[int]:
    """The update ids whose webhook delivery the bot answered with an error."""
    return [d["update_id"] for d in shop.emu.deliveries() if not d["ok"]]


def got_note(shop: Shop) -> int:
    return sum(1 for text in shop.boris.bot_texts() if NOTE in text)


async def test_a_fulfilment_failing_after_its_commit_delivers_the_goods_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook") as shop:
        await boris_orders_a_manual_product(shop)
        await shop.admin.press(EN("admin.mark_fulfilled"))
        assert failed_deliveries(shop) == []

        # Telegram answers 5xx to the buyer's message once (retried at once) and to the
        # admin's "fulfilled" answer once: the handler fails after the fulfilment was
        # committed and the goods were sent, and the update comes again.
        shop.emu.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=BORIS)
        shop.emu.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=ADMIN)
        await shop.admin.send(NOTE)

        failed = failed_deliveries(shop)
        assert len(failed) == 1, shop.emu.deliveries()
        redelivered = [d for d in shop.emu.deliveries() if d["update_id"] == failed[0]]
        assert redelivered[-1]["ok"], redelivered
        assert got_note(shop) == 1
        async with shop.uows() as uow:
            (order,) = await uow.orders.list_for_user(BORIS, 5)
        assert order.status is OrderStatus.FULFILLED
        assert order.delivery == NOTE

        # The announcement's button now finds the order fulfilled: nothing is sent again.
        await shop.admin.press(EN("admin.mark_fulfilled"))
        assert got_note(shop) == 1


async def test_a_stock_upload_failing_after_its_commit_adds_the_items_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook") as shop:
        product_id = await add_product(shop.uows, "keys")
        await open_admin(shop, "admin.section.products")
        await shop.admin.press("keys")
        await shop.admin.press(EN("admin.product.upload"))

        # The admin's "added" answer fails (5xx): the update is redelivered after the
        # items were committed.
        shop.emu.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=ADMIN)
        await shop.admin.send_document("stock.txt", "\n".join(STOCK).encode())

        assert len(failed_deliveries(shop)) == 1, shop.emu.deliveries()
        async with shop.uows() as uow:
            assert await uow.stock.available(product_id) == len(STOCK)


async def test_a_confirmed_refund_failing_after_its_commit_refunds_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with open_shop(pg_url, "webhook") as shop:
        await start(shop.boris)
        await fund(shop, BORIS, "10.00")
        await add_product(shop.uows, "key", price="6.00", stock=["K1"])
        async with shop.uows() as uow:
            order = (await purchase(uow, user_id=BORIS, sku="key", request_key="r1")).order
            await uow.commit()
        await open_admin(shop, "admin.section.payments")
        await shop.admin.send(str(order.id))
        await shop.admin.press(EN("admin.order.refund"))

        # The refund's result screen fails (5xx): the refund was committed and the buyer
        # told; the redelivered Confirm finds its nonce taken and does nothing.
        shop.emu.faults.inject("editMessageText", 502, "Bad Gateway", chat_id=ADMIN)
        await shop.admin.press(EN("money_admin.confirm"))

        assert len(failed_deliveries(shop)) == 1, shop.emu.deliveries()
        assert await balance(shop, BORIS) == Decimal("10.00")
        notices = [t for t in shop.boris.bot_texts() if t.startswith(f"↩️ Заказ №{order.id}")]
        assert len(notices) == 1, shop.boris.bot_texts()
        async with shop.uows() as uow:
            refunded = await uow.orders.get(order.id)
        assert refunded is not None
        assert refunded.status is OrderStatus.REFUNDED
