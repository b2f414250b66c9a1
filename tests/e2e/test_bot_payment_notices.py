"""What a customer is told about a Heleket payment, end to end (the real bot against the
Telegram emulator, the webhook service with its Telegram notifier against the Heleket
emulator, real PostgreSQL): a paid invoice loses its Pay/Check buttons wherever it was
paid from (webhook, reconciliation), an underpayment offers exactly the missing amount
(and the purchase it was for), an overpayment says that all of it was credited."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shopbot.bot.payment_notices import TelegramPaymentNotifier
from shopbot.domain.payments.reconcile import reconcile
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Message
from tests.conftest import add_product, add_user
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_payments import (
    EN,
    RU,
    assert_sound,
    balance,
    en,
    heleket_control,
    heleket_invoices,
    plain,
    settle,
    try_to_buy_the_key,
    wait_text,
)

ALICE = 1001


def invoice_message(user: ChatUser, heading: str) -> Message:
    """The bot message that showed the invoice (its text starts with `heading`)."""
    return next(m for m in user.messages(sender="bot") if (m.text or "").startswith(heading))


def only_the_buttons_went(message: Message) -> bool:
    """The message's last edit took its keyboard (with a Check button) and nothing else."""
    before = message.edits[-1]
    checks = [b for row in before["reply_markup"]["inline_keyboard"] for b in row]
    return (
        before["replaced_by"] == "editMessageReplyMarkup"
        and before["text"] == message.text
        and any(b["text"] == EN("topup.check") for b in checks)
    )


async def open_invoice(user: ChatUser, t: object, amount: str) -> None:
    await user.send("/start")
    await user.press(t("menu.topup"))  # type: ignore[operator]
    await user.press(f"{amount} USD")
    await user.press(t("topup.method_heleket"))  # type: ignore[operator]


async def pay(stack: BotStack, user: ChatUser, amount: str, **extra: object) -> str:
    [invoice] = [
        i
        for i in await heleket_invoices(stack)
        if str(i["order_id"]).startswith(f"topup-{user.id}-")
    ][-1:]
    await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay", {"amount": amount, **extra})
    await settle(stack)
    return str(invoice["uuid"])


async def test_a_paid_invoice_loses_its_pay_and_check_buttons(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await open_invoice(alice, EN, "10.00")
        shown = invoice_message(alice, "🧾 Invoice for 10.00 USD")
        assert shown.reply_markup is not None  # Pay, Check payment, Menu
        text = shown.text

        await pay(stack, alice, "10.00")
        await wait_text(stack, alice, "Your balance was topped up")
        await stack.emulator.wait_for(lambda: shown.reply_markup is None or None, 5.0)
        assert shown.reply_markup is None
        assert shown.text == text  # only the keyboard was edited
        assert only_the_buttons_went(shown)
        assert await balance(pg_uow, ALICE) == Decimal("10.00")


async def test_reconciliation_removes_the_buttons_of_the_invoice_it_credits(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await open_invoice(alice, EN, "25.00")
        shown = invoice_message(alice, "🧾 Invoice for 25.00 USD")
        await pay(stack, alice, "25.00", deliver=False)  # the webhook is lost

        notifier = TelegramPaymentNotifier(stack.bot, stack.ctx)
        report = await reconcile(
            stack.uows,
            stack.heleket.gateway,
            now=datetime.now(UTC) + timedelta(hours=1),
            on_applied=notifier,
        )
        assert report.checked == 1
        assert "Your balance was topped up by 25.00 USD." in alice.last_text()
        assert shown.reply_markup is None
        assert only_the_buttons_went(shown)
        assert await balance(pg_uow, ALICE) == Decimal("25.00")


async def test_an_underpaid_notice_offers_exactly_the_rest(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Алиса", language="ru")
        await open_invoice(alice, RU, "10.00")
        await pay(stack, alice, "4.00")
        notice = await wait_text(stack, alice, "Баланс пополнен")
        assert "поступило 4.00 из 10.00 USD" in notice
        rest = plain(RU("money_customer.top_up_rest", missing="6.00", currency="USD"))
        assert alice.buttons() == [rest, RU("common.menu")]

        await alice.press(rest)
        # The notice stays; the amount screen opens below it with exactly the rest.
        assert notice in alice.bot_texts()
        assert alice.last_text().startswith("Пополнение на 6.00 USD.")
        await alice.press(RU("topup.method_heleket"))
        second = (await heleket_invoices(stack))[-1]
        assert second["amount"] == "6.00"
        assert await balance(pg_uow, ALICE) == Decimal("4.00")
        await assert_sound(pg_uow)


async def test_a_rest_below_the_smallest_top_up_is_raised_to_it(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await open_invoice(alice, EN, "10.00")
        await pay(stack, alice, "9.50")
        await wait_text(stack, alice, "Your balance was topped up")
        await alice.press("Top up the rest (0.50 USD)")
        assert "Top up 1.00 USD." in alice.last_text()
        assert en("money_customer.raised_to_minimum", minimum="1.00", currency="USD") in (
            alice.last_text()
        )


async def test_an_underpaid_purchase_offers_the_rest_and_then_buys(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, balance="3.00")
    await add_product(pg_uow, "key", price="12.00", stock=["KEY-1"])
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await try_to_buy_the_key(alice, "12.00")
        await alice.press("Top up 9.00 USD")
        await alice.press(EN("topup.method_heleket"))
        await pay(stack, alice, "4.00")

        told = await wait_text(stack, alice, "does not cover")
        assert told == en(
            "after_topup.insufficient",
            balance="7.00",
            currency="USD",
            title="Product key",
            missing="5.00",
        )
        rest = EN("money_customer.top_up_rest", missing="5.00", currency="USD")
        assert alice.buttons() == [rest, EN("common.menu")]
        await alice.press("Top up the rest (5.00 USD)")
        assert "Top up 5.00 USD." in alice.last_text()
        assert "Product key is bought automatically" in alice.last_text()


async def test_an_overpaid_notice_says_all_of_it_was_credited(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await open_invoice(alice, EN, "10.00")
        await pay(stack, alice, "15.00")
        notice = await wait_text(stack, alice, "Your balance was topped up")
        assert "topped up by 15.00 USD" in notice
        assert en("money_customer.overpaid", expected="10.00", amount="15.00", currency="USD") in (
            notice
        )
        assert await balance(pg_uow, ALICE) == Decimal("15.00")

        bob = stack.user(2002, "Боб", language="ru")
        await open_invoice(bob, RU, "10.00")
        await pay(stack, bob, "12.00")
        told = await wait_text(stack, bob, "Баланс пополнен")
        assert (
            plain(RU("money_customer.overpaid", expected="10.00", amount="12.00", currency="USD"))
            in told
        )
