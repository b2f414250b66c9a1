"""Admins' refunds started in a support GROUP (SUPPORT_CHAT_ID < 0, issue 9): the
`/paysupport` note's Stars refund button, and refund buttons for an order and a Heleket
top-up pressed there, are asked and confirmed in the admin's private chat (the nonce and
the address dialog live there). A member who is not an admin is refused and the note
keeps its buttons; stale or forged buttons are refused at the first step with the reason.
The real aiogram bot against the Telegram emulator with groups, the Heleket emulator and
PostgreSQL, several cases in one stack."""

from decimal import Decimal

from shopbot.bot.callbacks import RefundCB, RefundKind
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.payments.models import RefundState
from shopbot.domain.payments.stars import StarRefundState
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product
from tests.e2e.bot_stack import BotStack, bot_stack, press_forged
from tests.e2e.test_bot_payments import (
    EN,
    assert_sound,
    balance,
    en,
    heleket_control,
    settle,
    stars_paid,
    the_invoice,
    wait_text,
)

ADMIN, ALICE, BORIS = 900, 1001, 1002
SUPPORT = -100777
WALLET = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"


def group_bot_texts(stack: BotStack) -> list[str]:
    return [m.text or "" for m in stack.emulator.messages(SUPPORT) if m.sender == "bot"]


async def test_refunds_from_the_support_group(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await add_product(pg_uow, "key", price="4.00", stock=["KEY-1"])
    async with bot_stack(pg_url, admin_ids=[ADMIN], support_chat_id=SUPPORT, heleket=True) as stack:
        emu = stack.emulator
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")
        stack.user(BORIS, "Boris")
        emu.create_group(SUPPORT, "Support", members=[ADMIN, BORIS])

        # --- Stars: the /paysupport note's button ---------------------------------------
        outcome = await stars_paid(stack, alice, "5.00 USD")
        await alice.send("/paysupport")
        note = emu.last_bot_message(SUPPORT)
        assert note is not None
        assert "/paysupport from" in (note.text or "")
        data = note.buttons[0][0]["callback_data"]
        assert note.buttons[0][0]["text"] == "↩️ #1 · 250 ⭐"

        # A member who is not an admin: refused, and the buttons stay for the admins.
        query = emu.press_in_group(SUPPORT, BORIS, note.message_id, data)
        await stack.idle()
        answer = emu.callback_answer(query)
        assert (answer.text, answer.show_alert) == (EN("groups.support_admins_only"), True)
        assert emu.last_bot_message(SUPPORT).buttons == note.buttons  # type: ignore[union-attr]
        assert emu.messages(BORIS) == []

        shown_before = len(admin.bot_texts())
        query = emu.press_in_group(SUPPORT, ADMIN, note.message_id, data)
        await stack.idle()
        assert emu.callback_answer(query).answered
        assert "Refund 250 ⭐ to" in admin.last_text()  # in the admin's private chat
        assert len(admin.bot_texts()) == shown_before + 1
        await admin.press(EN("payment_refund.confirm_button"))
        assert "250 ⭐ refunded" in admin.last_text()
        assert emu.bot().payments[outcome.charge_id].refunded
        assert await balance(pg_uow, ALICE) == Decimal("0.00")

        # The same (now stale) note button: refused at once with the reason.
        shown_before = len(admin.bot_texts())
        query = emu.press_in_group(SUPPORT, ADMIN, note.message_id, data)
        await stack.idle()
        done = EN("money_admin.stars_state.refunded")
        assert emu.callback_answer(query).text == EN("money_admin.stars_not_refundable", state=done)
        assert len(admin.bot_texts()) == shown_before
        async with pg_uow() as uow:
            payment = await uow.stars.get_by_charge_id(outcome.charge_id)
        assert payment is not None
        assert payment.refund_state is StarRefundState.REFUNDED

        # --- Heleket top-up, then an order bought from it ------------------------------
        await alice.send("/start")
        await alice.press(EN("menu.topup"))
        await alice.press("10.00 USD")
        await alice.press(EN("topup.method_heleket"))
        invoice = await the_invoice(stack, alice)
        await heleket_control(stack, f"/invoices/{invoice['uuid']}/pay")
        await settle(stack)
        await wait_text(stack, alice, "topped up")
        async with pg_uow() as uow:
            bought = await purchase(uow, user_id=ALICE, sku="key", request_key="support-group")
            await uow.commit()
            topup = await uow.topups.get_by_order_id(invoice["order_id"])
        assert topup is not None
        order = bought.order
        assert await balance(pg_uow, ALICE) == Decimal("6.00")

        # The order refund pressed in the group: confirmed in private.
        order_data = RefundCB(kind=RefundKind.ORDER, ref=order.id).pack()
        await press_forged(stack, ADMIN, note, order_data, chat_id=SUPPORT)
        assert f"#{order.id}" in admin.last_text()
        await admin.press(EN("money_admin.confirm"))
        assert await balance(pg_uow, ALICE) == Decimal("10.00")
        assert await press_forged(stack, ADMIN, note, order_data, chat_id=SUPPORT) == EN(
            "money_admin.order_not_refundable",
            order_id=order.id,
            status=EN("admin.status.refunded"),
        )
        missing = await press_forged(
            stack, ADMIN, note, RefundCB(kind=RefundKind.ORDER, ref=999).pack(), chat_id=SUPPORT
        )
        assert missing == EN("refusal.order_missing")

        # The Heleket refund pressed in the group: the address is asked and typed in private.
        heleket_data = RefundCB(kind=RefundKind.HELEKET, ref=topup.id).pack()
        await press_forged(stack, ADMIN, note, heleket_data, chat_id=SUPPORT)
        assert "Send the payer's wallet address" in admin.last_text()
        for bad in ("----------", "..........", "::::::::::", "-" + WALLET, "T-" * 18 + "T"):
            await admin.send(bad)
            assert admin.last_text() == en("payment_refund.bad_address"), bad
        await admin.send(WALLET)
        assert WALLET in admin.last_text()
        await admin.press(EN("money_admin.confirm"))
        assert "Refund of 10.00 USD" in admin.last_text()
        assert await balance(pg_uow, ALICE) == Decimal("0.00")
        await settle(stack)
        await wait_text(stack, alice, "refund of 10.00 USD was sent")
        async with pg_uow() as uow:
            stored = await uow.topups.get(topup.id)
        assert stored is not None
        assert stored.refund_state is RefundState.PAID

        # A stale Heleket button after refund_paid: refused before asking for an address.
        shown_before = len(admin.bot_texts())
        assert await press_forged(stack, ADMIN, note, heleket_data, chat_id=SUPPORT) == EN(
            "payment_refund.heleket_not_refundable_alert", order_id=invoice["order_id"]
        )
        assert len(admin.bot_texts()) == shown_before

        # Nothing but the note itself reached the group.
        assert group_bot_texts(stack) == [note.text]
        await assert_sound(pg_uow)
