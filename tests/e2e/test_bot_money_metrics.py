"""The shop's business counters through the real bot and the Telegram emulator: a Stars
top-up (invoice created, paid, money credited), a purchase (order completed, delivered),
one refused for want of money and then completed by itself after a top-up for the rest,
an admin's Stars refund; read from the bot's `/metrics`."""

import httpx

from shopbot.bot.texts import Texts
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product
from tests.e2e.bot_stack import ChatUser, bot_stack
from tests.metrics_scrape import Series, parse, value

EN = Texts("en")


async def scrape(client: httpx.AsyncClient) -> dict[Series, float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    return parse(answer.text)


async def buy(user: ChatUser, product: str, price: str) -> None:
    await user.send("/start")
    await user.press(EN("menu.catalog"))
    await user.press(EN("catalog.other"))
    await user.press(f"Product {product}")
    await user.press(f"Buy for {price} USD")


async def test_stars_topup_purchase_and_refusal_are_counted(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_product(pg_uow, "key", price="3.50", stock=["KEY-1"])
    await add_product(pg_uow, "gold", price="20.00", stock=["GOLD-1"])
    async with (
        bot_stack(pg_url, mode="webhook") as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        before = await scrape(client)
        alice = stack.user(1001, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press("Telegram Stars (500 ⭐)")
        assert (await alice.pay_invoice()).status == "paid"
        await buy(alice, "key", "3.50")
        await alice.press(EN("buy.confirm_button"))
        assert "KEY-1" in alice.last_text()
        await buy(alice, "gold", "20.00")  # refused: 6.50 USD left
        assert "Not enough balance" in alice.last_text()
        # Top up the rest for it: the purchase completes by itself once paid.
        await alice.press(EN("buy.topup_missing", missing="13.50", currency="USD"))
        await alice.press("Telegram Stars (675 ⭐)")
        assert (await alice.pay_invoice()).status == "paid"
        assert "GOLD-1" in alice.last_text()
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("shopbot_payments_total", provider="stars", status="created") == 2
    assert moved("shopbot_payments_total", provider="stars", status="paid") == 2
    assert moved("shopbot_credited_total", provider="stars", currency="USD") == 23.5
    assert moved("shopbot_orders_total", status="completed") == 2  # bought, then after top-up
    assert moved("shopbot_orders_total", status="refused") == 1
    assert moved("shopbot_deliveries_total", kind="text", outcome="ok") == 2
    assert (
        moved(
            "shopbot_updates_total",
            update_type="pre_checkout_query",
            handler="stars.pre_checkout",
            outcome="ok",
        )
        == 2  # one pre-checkout round trip per payment
    )


async def test_an_admins_stars_refund_is_counted(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    refunded = {"provider": "stars", "status": "refunded"}
    async with (
        bot_stack(pg_url, mode="webhook", admin_ids=[900]) as stack,
        httpx.AsyncClient(base_url=str(stack.settings.public_base_url)) as client,
    ):
        admin = stack.user(900, "Admin")
        await admin.send("/start")
        alice = stack.user(1001, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press("Telegram Stars (500 ⭐)")
        outcome = await alice.pay_invoice()
        before = await scrape(client)
        await admin.send("/admin")
        await admin.press(EN("admin.section.payments"))
        await admin.send(outcome.charge_id)
        await admin.press(EN("admin.stars.refund"))
        await admin.press(EN("payment_refund.confirm_button"))
        assert "500 ⭐ refunded" in admin.last_text()
        after = await scrape(client)

    moved = value(after, "shopbot_payments_total", **refunded) - value(
        before, "shopbot_payments_total", **refunded
    )
    assert moved == 1
