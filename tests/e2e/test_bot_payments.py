"""The money paths of the bot end to end: the real aiogram Bot and Dispatcher against the
Telegram Bot API emulator, the real webhook service (with the Telegram notifier) against
the Heleket emulator, real PostgreSQL.

Heleket top-ups (Pay page → signed webhook → "topped up" message), "Check payment" after a
lost webhook, Telegram Stars with the pre-checkout round trip, a redelivered
successful_payment, the insufficient-balance journey completing by itself, /paysupport and
admins' refunds (Stars and Heleket)."""

import html
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from shopbot.bot.callbacks import RefundKind
from shopbot.bot.texts import Texts
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.payments.models import InvoiceState, RefundState
from shopbot.domain.payments.stars import StarRefundState
from shopbot.persistence.models import LedgerTransactionRow, PaymentEventRow, StarPaymentRow
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Message
from tests.conftest import add_product, add_user
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack

ADMIN, ALICE = 900, 1001
EN, RU = Texts("en"), Texts("ru")
NOTICE_TIMEOUT = 15.0


def plain(text: str) -> str:
    """What a client shows for an HTML message (the emulator stores it parsed)."""
    return html.unescape(re.sub(r"</?[a-z]+[^>]*>", "", text))


def en(key: str, **params: Any) -> str:
    return plain(EN(key, **params))


async def balance(uows: UnitOfWorkFactory, owner: int | str) -> Decimal:
    """A user's balance (by id) or a system account's (by code)."""
    account = user_account(owner) if isinstance(owner, int) else owner
    async with uows() as uow:
        return await uow.ledger.balance(account)


async def count(uows: UnitOfWorkFactory, column: Any, *where: Any) -> int:
    async with uows() as uow:
        return int(await uow.session.scalar(select(func.count(column)).where(*where)) or 0)


async def assert_sound(uows: UnitOfWorkFactory) -> None:
    async with uows() as uow:
        report = await uow.ledger.verify()
    assert report.sound, report


async def wait_text(stack: BotStack, user: ChatUser, fragment: str) -> str:
    """The newest bot message containing `fragment`, waiting for notifications that
    arrive from outside the bot (the webhook service)."""

    def found() -> str | None:
        return next((t for t in reversed(user.bot_texts()) if fragment in t), None)

    text = await stack.emulator.wait_for(found, NOTICE_TIMEOUT)
    assert text is not None
    return text


def texts_with(user: ChatUser, fragment: str) -> list[str]:
    return [text for text in user.bot_texts() if fragment in text]


def last_invoice(user: ChatUser) -> Message:
    return next(m for m in reversed(user.messages(sender="bot")) if m.invoice)


def pay_url(user: ChatUser) -> str:
    for message in reversed(user.messages(sender="bot")):
        for row in message.buttons:
            for button in row:
                if "url" in button:
                    return str(button["url"])
    raise AssertionError("no Pay button")


async def heleket_invoices(stack: BotStack) -> list[dict[str, Any]]:
    response = await stack.heleket.emulator.get("/sandbox/invoices")
    assert response.status_code == 200
    return [entry["invoice"] for entry in response.json()]


async def the_invoice(stack: BotStack, user: ChatUser) -> dict[str, Any]:
    invoices = await heleket_invoices(stack)
    assert len(invoices) == 1, (invoices, user.bot_texts()[-3:])
    return invoices[0]


async def heleket_control(stack: BotStack, path: str, body: dict[str, Any] | None = None) -> None:
    response = await stack.heleket.emulator.post(f"/sandbox{path}", json=body or {})
    assert response.status_code == 200, response.text


async def settle(stack: BotStack) -> None:
    response = await stack.heleket.emulator.get("/sandbox/settle", params={"timeout": 30})
    assert response.status_code == 200


async def press_twice(user: ChatUser, label: str) -> None:
    """A double tap: both presses reach the bot before it answered either."""
    message, data = user.message_with_button(label)
    user.emulator.press(user.id, message.message_id, data)
    user.emulator.press(user.id, message.message_id, data)
    await user.stack.idle()


# --- Heleket --------------------------------------------------------------------------


async def try_to_buy_the_key(user: ChatUser, price: str) -> None:
    """From /start to the product "key" in "Other" and its Buy button."""
    await user.send("/start")
    await user.press(EN("menu.catalog"))
    await user.press(EN("catalog.other"))
    await user.press("Product key")
    await user.press(f"Buy for {price} USD")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_heleket_topup_from_the_bot(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    async with bot_stack(pg_url, mode=mode, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        assert "10000.00 USD" in alice.last_text()
        await alice.press("10.00 USD")
        assert "Top up 10.00 USD." in alice.last_text()
        await press_twice(alice, EN("topup.method_heleket"))

        invoices = await heleket_invoices(stack)
        assert len(invoices) == 1  # the double tap made one invoice
        assert invoices[0]["amount"] == "10.00"
        assert "Invoice for 10.00 USD" in alice.last_text()
        assert EN("topup.check") in alice.buttons()
        url = pay_url(alice)
        assert url.endswith(f"/pay/{invoices[0]['uuid']}")

        # The customer opens the page and pays exactly.
        page = await stack.heleket.emulator.get(url)
        assert "10.00" in page.text
        paid = await stack.heleket.emulator.post(
            url,
            content="action=exact",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert paid.status_code in (200, 303)
        await settle(stack)

        notice = await wait_text(stack, alice, "Your balance was topped up")
        assert "topped up by 10.00 USD." in notice
        assert "Balance: 10.00 USD" in notice
        assert await balance(pg_uow, ALICE) == Decimal("10.00")
        assert len(texts_with(alice, "topped up")) == 1
        await assert_sound(pg_uow)


async def test_underpayment_is_explained(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Алиса", language="ru")
        await alice.send("/start")
        await alice.press(RU("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press(RU("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay", {"amount": "4.00"})
        await settle(stack)
        notice = await wait_text(stack, alice, "Баланс пополнен")
        assert "поступило 4.00 из 10.00 USD" in notice
        assert await balance(pg_uow, ALICE) == Decimal("4.00")


async def test_check_payment_after_a_lost_webhook_credits_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("25.00 USD")
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)

        query = await alice.press(EN("topup.check"))  # nothing paid yet
        answer = stack.emulator.callback_answer(query)
        assert answer.show_alert
        assert answer.text == EN("topup.status_pending")
        assert await balance(pg_uow, ALICE) == Decimal("0.00")

        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay", {"deliver": False})
        await alice.press(EN("topup.check"))
        assert en("topup.status_credited", amount="25.00", currency="USD") in alice.bot_texts()
        assert "Your balance was topped up by 25.00 USD." in alice.last_text()
        assert await balance(pg_uow, ALICE) == Decimal("25.00")

        # The lost webhook turns up after all: recorded as a duplicate, nothing changes.
        await stack.heleket.gateway.resend_webhook(uuid=invoice["uuid"])
        await settle(stack)
        await stack.idle()
        assert await balance(pg_uow, ALICE) == Decimal("25.00")
        assert len(texts_with(alice, "topped up")) == 1
        checked = (PaymentEventRow.source == "check", PaymentEventRow.status == "paid")
        assert await count(pg_uow, PaymentEventRow.id, *checked) == 1
        async with pg_uow() as uow:
            stored = await uow.topups.get_by_order_id(invoice["order_id"])
        assert stored is not None
        assert stored.state is InvoiceState.CREDITED
        await assert_sound(pg_uow)


async def test_insufficient_balance_then_heleket_topup_completes_the_order(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, balance="3.00")
    await add_product(pg_uow, "key", price="12.00", stock=["KEY-<1>"])
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await try_to_buy_the_key(alice, "12.00")
        assert "you have 3.00 USD" in alice.last_text()
        await alice.press("Top up 9.00 USD")
        assert "Product key is bought automatically" in alice.last_text()
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        assert invoice["amount"] == "9.00"
        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay")
        await settle(stack)

        delivered = await wait_text(stack, alice, en("after_topup.heading"))
        assert "KEY-<1>" in delivered
        assert await balance(pg_uow, ALICE) == Decimal("0.00")
        async with pg_uow() as uow:
            [order] = await uow.orders.list_for_user(ALICE, 10)
        assert order.request_key == f"after-topup:{invoice['order_id']}"
        assert order.delivery == "KEY-<1>"
        await assert_sound(pg_uow)


async def test_purchase_after_topup_that_sold_out_keeps_the_money(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, balance="3.00")
    await add_user(pg_uow, 2002, balance="20.00")
    await add_product(pg_uow, "key", price="12.00", stock=["ONLY-ONE"])
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await try_to_buy_the_key(alice, "12.00")
        await alice.press("Top up 9.00 USD")
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        async with pg_uow() as uow:  # someone else buys the last one meanwhile
            await purchase(uow, user_id=2002, sku="key", request_key="faster")
            await uow.commit()
        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay")
        await settle(stack)
        told = await wait_text(stack, alice, "sold out before your payment arrived")
        assert "(12.00 USD)" in told
        assert await balance(pg_uow, ALICE) == Decimal("12.00")
        await assert_sound(pg_uow)


# --- Telegram Stars -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_stars_topup_with_a_custom_amount(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    async with bot_stack(pg_url, mode=mode) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        assert EN("topup.method_heleket") not in alice.buttons()
        await alice.press(EN("topup.custom"))
        for wrong, expected in [
            ("lots", "amount.not_a_number"),
            ("7.5555", "amount.decimals"),
            ("1,500", "amount.ambiguous"),  # never read as 1.50
            ("1,5000", "amount.ambiguous"),  # nor this (15000 may be meant)
            ("01,500", "amount.leading_zero"),  # nor this
            ("0,500", "amount.decimals"),
            ("1" * 200, "amount.not_a_number"),
            ("$5", "amount.not_a_number"),
            ("0.50", "topup.out_of_range"),
            ("20000", "topup.out_of_range"),
            ("20 000", "topup.out_of_range"),  # 20000, not 20
        ]:
            await alice.send(wrong)
            shown = wrong if len(wrong) <= 40 else wrong[:39] + "…"  # quoted cut short
            assert alice.last_text() == en(
                expected, text=shown, minimum="1.00", maximum="10000.00", currency="USD"
            )
            assert EN("common.cancel") in alice.buttons()
        await alice.send("7,5")
        assert "Top up 7.50 USD." in alice.last_text()
        await press_twice(alice, "Telegram Stars (375 ⭐)")

        invoices = [m for m in alice.messages(sender="bot") if m.invoice]
        assert len(invoices) == 1  # the double tap sent one invoice
        invoice = invoices[0]
        assert invoice.invoice is not None
        assert invoice.invoice["currency"] == "XTR"
        assert invoice.invoice["total_amount"] == 375
        assert len(invoice.extra["payload"].encode()) <= 128
        assert not invoice.extra.get("provider_token")

        outcome = await alice.pay_invoice()
        assert outcome.status == "paid"
        answers = stack.emulator.calls("answerPreCheckoutQuery")
        assert [c.params.get("ok") for c in answers] == ["true"]
        assert "Your balance was topped up by 7.50 USD." in alice.last_text()
        assert await balance(pg_uow, ALICE) == Decimal("7.50")
        assert await balance(pg_uow, SystemAccount.STARS) == Decimal("-7.50")
        async with pg_uow() as uow:
            [payment] = await uow.stars.list_for_user(ALICE, 10)
        assert payment.charge_id == outcome.charge_id
        assert payment.stars == 375
        await assert_sound(pg_uow)


async def test_a_redelivered_successful_payment_is_credited_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, mode="webhook") as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("5.00 USD")
        await alice.press("Telegram Stars")
        outcome = await alice.pay_invoice()
        assert outcome.status == "paid"
        assert await balance(pg_uow, ALICE) == Decimal("5.00")

        # Telegram delivers the same payment message again (a new update).
        state = stack.emulator.bot()
        for _ in range(3):
            stack.emulator.enqueue(
                state, "message", stack.emulator.message_json(state, outcome.message)
            )
        await stack.idle()
        assert alice.last_text() == en("stars.already")
        assert await balance(pg_uow, ALICE) == Decimal("5.00")
        assert await count(pg_uow, StarPaymentRow.id) == 1
        stars_keys = LedgerTransactionRow.idempotency_key.like("stars:%")
        assert await count(pg_uow, LedgerTransactionRow.id, stars_keys) == 1
        await assert_sound(pg_uow)


async def test_insufficient_balance_then_stars_topup_completes_the_order(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, balance="3.00")
    await add_product(pg_uow, "key", price="3.40", stock=["KEY-1", "KEY-2"])
    async with bot_stack(pg_url) as stack:
        alice = stack.user(ALICE, "Alice")
        await try_to_buy_the_key(alice, "3.40")
        await alice.press("Top up 0.40 USD")
        # Below the smallest top-up: the minimum is offered, the rest stays on the balance.
        assert "Top up 1.00 USD." in alice.last_text()
        assert en(
            "topup.raised_to_minimum", minimum="1.00", maximum="10000.00", currency="USD"
        ) in (alice.last_text())
        await alice.press("Telegram Stars (50 ⭐)")
        outcome = await alice.pay_invoice()
        assert outcome.status == "paid"

        assert en("after_topup.heading") in alice.last_text()
        assert "KEY-1" in alice.last_text()
        assert await balance(pg_uow, ALICE) == Decimal("0.60")
        async with pg_uow() as uow:
            [order] = await uow.orders.list_for_user(ALICE, 10)
        assert order.request_key == f"after-topup:{outcome.charge_id}"

        # A redelivery shows the order again and buys nothing more.
        state = stack.emulator.bot()
        stack.emulator.enqueue(
            state, "message", stack.emulator.message_json(state, outcome.message)
        )
        await stack.idle()
        async with pg_uow() as uow:
            assert len(await uow.orders.list_for_user(ALICE, 10)) == 1
        assert await balance(pg_uow, ALICE) == Decimal("0.60")
        await assert_sound(pg_uow)


async def test_pre_checkout_refuses_when_the_product_went_off_sale(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, balance="1.00")
    await add_product(pg_uow, "key", price="6.00", stock=["KEY-1"])
    async with bot_stack(pg_url) as stack:
        alice = stack.user(ALICE, "Alice")
        await try_to_buy_the_key(alice, "6.00")
        await alice.press("Top up 5.00 USD")
        await alice.press("Telegram Stars")
        async with pg_uow() as uow:
            product = await uow.catalog.get_product("key")
            assert product is not None
            products = StarPaymentRow.metadata.tables["products"]
            await uow.session.execute(products.update().values(is_active=False))
            await uow.commit()
        outcome = await alice.pay_invoice()
        assert outcome.status == "declined"
        assert outcome.error_message == EN("stars.refused_product")
        assert await balance(pg_uow, ALICE) == Decimal("1.00")
        assert await count(pg_uow, StarPaymentRow.id) == 0


# --- /paysupport and refunds ----------------------------------------------------------


async def test_paysupport_answers_and_reaches_support(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice", username="alice_w")
        await alice.send("/paysupport")
        assert alice.last_text().startswith(en("paysupport.text", user_id=ALICE).split("\n")[0])
        assert f"Your user id: {ALICE}" in alice.last_text()
        assert en("paysupport.forwarded") in alice.last_text()
        note = admin.last_text()
        assert "/paysupport from @alice_w" in note
        assert "balance 0.00 USD" in note

    async with bot_stack(pg_url) as stack:  # no admins, no support chat: still answered
        bob = stack.user(1002, "Bob", language="ru")
        await bob.send("/paysupport")
        assert plain(RU("paysupport.text", user_id=1002)).split("\n")[0] in bob.last_text()
        assert plain(RU("paysupport.forwarded")) not in bob.last_text()


async def stars_paid(stack: BotStack, alice: ChatUser, amount_label: str) -> Any:
    await alice.send("/start")
    await alice.press(EN("menu.topup"))
    await alice.press(amount_label)
    await alice.press("Telegram Stars")
    outcome = await alice.pay_invoice()
    assert outcome.status == "paid"
    return outcome


async def test_admin_refunds_a_stars_payment(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")
        outcome = await stars_paid(stack, alice, "10.00 USD")
        assert await balance(pg_uow, ALICE) == Decimal("10.00")

        # Through the admin's payment lookup (by charge id).
        await admin.send("/admin")
        await admin.press(EN("admin.section.payments"))
        await admin.send(outcome.charge_id)
        await admin.press(EN("admin.stars.refund"))
        assert "Refund 500 ⭐ to id 1001?" in admin.last_text()
        assert "10.00 USD will be taken" in admin.last_text()
        await admin.press(EN("payment_refund.confirm_button"))
        assert "500 ⭐ refunded" in admin.last_text()

        assert stack.emulator.bot().payments[outcome.charge_id].refunded
        assert en(
            "payment_refund.user_stars_notice", stars=500, amount="10.00", currency="USD"
        ) in (alice.bot_texts())
        assert await balance(pg_uow, ALICE) == Decimal("0.00")
        assert await balance(pg_uow, SystemAccount.STARS) == Decimal("0.00")
        async with pg_uow() as uow:
            payment = await uow.stars.get_by_charge_id(outcome.charge_id)
        assert payment is not None
        assert payment.refund_state is StarRefundState.REFUNDED
        assert payment.refunded_at is not None
        async with pg_uow() as uow:
            actor = await uow.session.scalar(  # type: ignore[attr-defined]
                select(LedgerTransactionRow.actor).where(
                    LedgerTransactionRow.idempotency_key == f"stars:{outcome.charge_id}:refund"
                )
            )
        assert actor == f"tg-admin:{ADMIN}"
        await assert_sound(pg_uow)


async def test_a_stars_refund_is_refused_when_the_balance_was_spent(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_product(pg_uow, "key", price="4.00", stock=["KEY-1"])
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")
        outcome = await stars_paid(stack, alice, "5.00 USD")
        async with pg_uow() as uow:
            await purchase(uow, user_id=ALICE, sku="key", request_key="spent")
            await uow.commit()

        # From the /paysupport note the support chat gets (it carries refund buttons).
        await alice.send("/paysupport")
        await admin.press("↩️ #")
        await admin.press(EN("payment_refund.confirm_button"))
        assert admin.last_text() == en("payment_refund.insufficient", amount="5.00", currency="USD")
        assert not stack.emulator.bot().payments[outcome.charge_id].refunded
        assert await balance(pg_uow, ALICE) == Decimal("1.00")
        await assert_sound(pg_uow)


async def test_only_admins_refund(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        alice = stack.user(ALICE, "Alice")
        outcome = await stars_paid(stack, alice, "5.00 USD")
        async with pg_uow() as uow:
            payment = await uow.stars.get_by_charge_id(outcome.charge_id)
        assert payment is not None
        # A forged button press (the emulator only presses buttons it showed, so send the
        # update directly).
        from shopbot.bot.callbacks import RefundCB

        state = stack.emulator.bot()
        message = alice.messages(sender="bot")[-1]
        stack.emulator.enqueue(
            state,
            "callback_query",
            {
                "id": "forged-1",
                "from": stack.emulator.user(ALICE).to_api(),
                "message": stack.emulator.message_json(state, message),
                "chat_instance": "1",
                "data": RefundCB(kind=RefundKind.STARS, ref=payment.id).pack(),
            },
        )
        await stack.idle()
        assert not stack.emulator.bot().payments[outcome.charge_id].refunded
        assert await balance(pg_uow, ALICE) == Decimal("5.00")


async def test_admin_refunds_a_heleket_topup_to_a_wallet(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    async with bot_stack(pg_url, admin_ids=[ADMIN], heleket=True) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay")
        await settle(stack)
        await wait_text(stack, alice, "topped up")

        await admin.send("/admin")
        await admin.press(EN("admin.section.payments"))
        await admin.send(invoice["order_id"])
        await admin.press(EN("admin.topup.refund"))
        assert "Send the payer's wallet address" in admin.last_text()
        await admin.send("not an address!")
        assert admin.last_text() == en("payment_refund.bad_address")
        await admin.press(EN("common.cancel"))
        assert en("payment_refund.cancelled") in admin.bot_texts()
        await admin.send("TXYZ1234567890abcdefWALLET")  # not asked any more: nothing happens
        assert await balance(pg_uow, ALICE) == Decimal("10.00")
        await admin.send("/admin")
        await admin.press(EN("admin.section.payments"))
        await admin.send(invoice["order_id"])
        await admin.press(EN("admin.topup.refund"))
        await admin.send("TXYZ1234567890abcdefWALLET")
        confirm = admin.last_text()
        assert "TXYZ1234567890abcdefWALLET" in confirm  # the address in full
        assert "10.00 USD" in confirm
        assert "Network: " in confirm
        assert await balance(pg_uow, ALICE) == Decimal("10.00")  # nothing sent yet
        await admin.press(EN("common.cancel"))
        assert admin.last_text() == en("money_admin.cancelled")
        assert await balance(pg_uow, ALICE) == Decimal("10.00")
        await admin.press(EN("money_admin.back_to_payment"))
        await admin.press(EN("admin.topup.refund"))
        await admin.send("TXYZ1234567890abcdefWALLET")
        await admin.press(EN("money_admin.confirm"))
        assert "Refund of 10.00 USD" in admin.last_text()
        assert "TXYZ1234567890abcdefWALLET" in admin.last_text()
        assert await balance(pg_uow, ALICE) == Decimal("0.00")  # held until Heleket reports
        await settle(stack)

        refund_notice = await wait_text(stack, alice, "refund of 10.00 USD was sent")
        assert "wallet" in refund_notice
        async with pg_uow() as uow:
            stored = await uow.topups.get_by_order_id(invoice["order_id"])
        assert stored is not None
        assert stored.refund_state is RefundState.PAID
        assert await balance(pg_uow, SystemAccount.HELEKET_REFUNDS) == Decimal("0.00")
        async with pg_uow() as uow:
            actor = await uow.session.scalar(  # type: ignore[attr-defined]
                select(LedgerTransactionRow.actor).where(
                    LedgerTransactionRow.idempotency_key.like("heleket:%:refund-hold")
                )
            )
        assert actor == f"tg-admin:{ADMIN}"
        await assert_sound(pg_uow)


@pytest.mark.parametrize(
    ("paid", "key", "credited"),
    [
        ("4.00", "money_customer.status_underpaid", "4.00"),
        ("12.50", "money_customer.status_overpaid", "12.50"),
    ],
)
async def test_check_payment_says_underpaid_or_overpaid(
    pg_url: str, pg_uow: UnitOfWorkFactory, paid: str, key: str, credited: str
) -> None:
    async with bot_stack(pg_url, heleket=True) as stack:
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        await heleket_control(
            stack, f"/invoices/{invoice['uuid']}/pay", {"amount": paid, "deliver": False}
        )
        await alice.press(EN("topup.check"))

        said = en(key, amount=credited, expected="10.00", currency="USD")
        assert said in alice.bot_texts()
        assert en("topup.status_credited", amount=credited, currency="USD") not in (
            alice.bot_texts()
        )
        assert await balance(pg_uow, ALICE) == Decimal(credited)
        if key.endswith("underpaid"):  # the next step: a button for exactly the rest
            await alice.press(EN("money_customer.top_up_rest", missing="6.00", currency="USD"))
            assert "Top up 6.00 USD. Choose how to pay:" in alice.bot_texts()
