"""Messages that record money stay in the chat, end to end (the real bot against the
Telegram emulator, the Heleket emulator and the webhook service, real PostgreSQL).

Every message that records a ledger transaction for the customer — the "Check payment"
results (paid, overpaid, paid in part), the notifier's "topped up" notices, the purchase
after a top-up, a Stars receipt and its refund, goods delivered — is collected, and
every callback button under each of them is pressed: the record's text, caption and
edit history must be exactly as before (each button opens its screen below it)."""

from dataclasses import dataclass
from decimal import Decimal

from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Message
from tests.conftest import add_product, add_user
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_payment_notices import open_invoice
from tests.e2e.test_bot_payments import (
    EN,
    balance,
    en,
    heleket_control,
    heleket_invoices,
    stars_paid,
    try_to_buy_the_key,
)

ADMIN = 900
RECORDS = (
    "⚠️ This invoice was paid only in part",  # Check payment
    "✅ This invoice is paid",  # Check payment: exactly or more
    "✅ Your balance was topped up",  # the notifier, a Stars receipt
    "Your balance (",  # the purchase after a top-up could not be made
    "↩️",  # refunds
    "🛒",  # the purchase after a top-up, delivered
    "✅ Order #",  # goods delivered
)


@dataclass(frozen=True)
class Snapshot:
    text: str | None
    caption: str | None
    edits: int


def snapshot(message: Message) -> Snapshot:
    return Snapshot(message.text, message.caption, len(message.edits))


def records(user: ChatUser) -> list[Message]:
    return [
        m
        for m in user.messages(sender="bot")
        if any((m.text or m.caption or "").startswith(r) for r in RECORDS) and m.buttons
    ]


async def pay_unannounced(stack: BotStack, user: ChatUser, amount: str) -> None:
    """Pays the user's newest Heleket invoice without its webhook (a lost webhook), so
    only "Check payment" learns of it."""
    [invoice] = [
        i
        for i in await heleket_invoices(stack)
        if str(i["order_id"]).startswith(f"topup-{user.id}-")
    ][-1:]
    await heleket_control(
        stack, f"/invoices/{invoice['uuid']}/pay", {"amount": amount, "deliver": False}
    )


async def press_every_button(user: ChatUser) -> int:
    """Presses each callback button under each record once; asserts after every press
    that no record changed. Returns how many buttons were pressed."""
    found = records(user)
    before = {m.message_id: snapshot(m) for m in found}
    pressed = 0
    for message in found:
        for row in message.buttons:
            for data in [b["callback_data"] for b in row if "callback_data" in b]:
                await user.press_data(message.message_id, data)
                pressed += 1
                after = {m.message_id: snapshot(m) for m in found}
                assert after == before, (message.text, data)
    return pressed


async def test_every_button_under_a_money_record_keeps_the_record(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_product(pg_uow, "key", price="10.00", stock=["KEY-1", "KEY-2"])
    await add_user(pg_uow, 5005, balance="20.00")
    async with bot_stack(pg_url, heleket=True, admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")

        # Paid in part for a product, learnt by "Check payment" (the tester's case).
        alice = stack.user(1001, "Alice")
        await try_to_buy_the_key(alice, "10.00")
        await alice.press("Top up")
        await alice.press(EN("topup.method_heleket"))
        await pay_unannounced(stack, alice, "9.50")
        await alice.press(EN("topup.check"))
        checked = next(m for m in records(alice) if "paid only in part" in (m.text or ""))
        rest = EN("money_customer.top_up_rest", missing="0.50", currency="USD")
        assert [b["text"] for row in checked.buttons for b in row] == [rest, EN("common.menu")]
        await alice.press_data(checked.message_id, checked.buttons[0][0]["callback_data"])
        # The product is carried: the rest's screen says it is then bought by itself.
        assert "Product key is bought automatically" in alice.last_text()

        # Paid exactly and overpaid, learnt by "Check payment".
        bob = stack.user(2002, "Bob")
        await open_invoice(bob, EN, "10.00")
        await pay_unannounced(stack, bob, "10.00")
        await bob.press(EN("topup.check"))
        assert en("topup.status_credited", amount="10.00", currency="USD") in bob.bot_texts()
        carol = stack.user(3003, "Carol")
        await open_invoice(carol, EN, "10.00")
        await pay_unannounced(stack, carol, "15.00")
        await carol.press(EN("topup.check"))

        # A Stars receipt, then its refund notice; goods bought from the balance.
        dave = stack.user(4004, "Dave")
        outcome = await stars_paid(stack, dave, "10.00 USD")
        await admin.send("/admin")
        await admin.press(EN("admin.section.payments"))
        await admin.send(outcome.charge_id)
        await admin.press(EN("admin.stars.refund"))
        await admin.press(EN("payment_refund.confirm_button"))
        eve = stack.user(5005, "Eve")
        await try_to_buy_the_key(eve, "10.00")
        await eve.press(EN("buy.confirm_button"))

        pressed = {}
        for user in (alice, bob, carol, dave, eve):
            pressed[user.id] = await press_every_button(user)
        # Every customer had records with buttons: the walk pressed something for each.
        assert all(pressed.values()), pressed
        assert len(records(alice)) == 2  # the check view and the after-top-up notice
        assert len(records(dave)) == 2  # Stars receipt and refund notice
        assert await balance(pg_uow, 1001) == Decimal("9.50")
