"""After money moved, a failing Telegram call loses nothing (issue 9, round 2): a paid
manual order reaches the admins exactly once and before the buyer's screen is edited;
the buyer gets the goods in the chat even when the edit fails for good; nobody is told
a completed purchase failed. And a failed update's answer is true to the bot mode: in
webhook mode Telegram redelivers it ("we are retrying"), in polling mode nothing does
("try again"). Real bot, Telegram emulator with injected faults, PostgreSQL."""

from decimal import Decimal

from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import ProductKind
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product, add_user
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack
from tests.e2e.test_bot_customer import ADMIN, ALICE, balance_of, plain
from tests.e2e.test_bot_robustness import orders_of, to_confirm

EN = Texts("en")
GENERIC = plain(EN("error.generic", error_id="")).split(":")[0]
RETRYING = plain(EN("error.retrying", error_id="")).split(":")[0]
TITLE = "Product setup"


def announced(admin: ChatUser, order_id: int) -> int:
    """How many announcements of `order_id` the admin got."""
    head = plain(
        EN(
            "admin.manual_order",
            order_id=order_id,
            title=TITLE,
            price="5.00",
            currency="USD",
            buyer="",
        )
    ).split(", from")[0]
    return sum(1 for text in admin.bot_texts() if text.startswith(head))


def paid_notice(order_id: int) -> str:
    return plain(EN("buy.manual", order_id=order_id, title=TITLE))


def error_texts(user: ChatUser) -> list[str]:
    return [t for t in user.bot_texts() if t.startswith((GENERIC, RETRYING))]


async def buy_with_fault(
    stack: BotStack, alice: ChatUser, method: str, code: int, description: str, **fault: int
) -> None:
    """Alice buys the manual product; `method` to her chat fails as given meanwhile."""
    await to_confirm(alice, TITLE)
    stack.emulator.faults.inject(
        method, code, description, chat_id=fault.pop("chat", ALICE), **fault
    )
    await alice.press(EN("buy.confirm_button"))


async def test_paid_manual_orders_survive_telegram_failures_in_webhook_mode(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, "100")
    await add_product(pg_uow, "setup", ProductKind.MANUAL, "5.00")
    async with bot_stack(pg_url, mode="webhook", admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")

        # 1. Editing the confirm screen fails every try (5xx): the admins are told
        # once, the goods come as a new message, nobody hears of a failure.
        await buy_with_fault(stack, alice, "editMessageText", 502, "Bad Gateway", times=20)
        assert announced(admin, 1) == 1
        assert alice.last_text() == paid_notice(1)
        stack.emulator.faults.clear()
        # The confirm screen stayed; pressing it again buys nothing and tells nobody.
        message, data = alice.message_with_button(EN("buy.confirm_button"))
        await alice.press_data(message.message_id, data)
        assert announced(admin, 1) == 1
        assert len(await orders_of(pg_uow, ALICE)) == 1

        # 2. The buyer deleted the confirm screen (400): delivered in a new message.
        await buy_with_fault(
            stack, alice, "editMessageText", 400, "Bad Request: message to edit not found"
        )
        assert announced(admin, 2) == 1
        assert alice.last_text() == paid_notice(2)

        # 3. Telegram asks to slow down (429) on the admin's message: retried after
        # retry_after, so the admin still gets it.
        await buy_with_fault(
            stack,
            alice,
            "sendMessage",
            429,
            "Too Many Requests: retry after 1",
            chat=ADMIN,
            retry_after=1,
        )
        assert announced(admin, 3) == 1

        # 4. The admin's chat keeps failing (5xx on every retry): no announcement, but
        # the order is listed under "Orders to fulfil" with its Mark fulfilled button.
        await buy_with_fault(stack, alice, "sendMessage", 502, "Bad Gateway", chat=ADMIN, times=4)
        assert announced(admin, 4) == 0
        assert alice.last_text() == paid_notice(4)
        assert error_texts(alice) == []
        assert await balance_of(pg_uow, ALICE) == Decimal("80.00")

        await admin.send("/admin")
        await admin.press(EN("fulfil.section"))
        assert admin.last_text() == plain(EN("fulfil.list", limit=30))
        listed = [b for b in admin.buttons() if b.startswith("#")]
        assert listed == [
            EN("fulfil.item", order_id=n, title=TITLE, price="5.00", currency="USD")
            for n in (1, 2, 3, 4)
        ]
        await admin.press("#4 ")
        assert EN("admin.mark_fulfilled") in admin.buttons()

        # 5. Kind 13: a transient failure in webhook mode is redelivered by Telegram, so
        # the user hears "we are retrying", once, and the retry then answers.
        stack.emulator.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=ALICE)
        await alice.send("/start")
        errors = error_texts(alice)
        assert len(errors) == 1, errors
        assert errors[0].startswith(RETRYING)
        assert alice.last_text().startswith(plain(EN("start.welcome", name="Alice"))[:20])


async def test_paid_order_and_failure_texts_in_polling_mode(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await add_user(pg_uow, ALICE, "100")
    await add_product(pg_uow, "setup", ProductKind.MANUAL, "5.00")
    async with bot_stack(pg_url, mode="polling", admin_ids=[ADMIN]) as stack:
        admin = stack.user(ADMIN, "Admin")
        await admin.send("/start")
        alice = stack.user(ALICE, "Alice")

        # One 5xx on the edit: retried, the goods replace the confirm screen.
        await buy_with_fault(stack, alice, "editMessageText", 502, "Bad Gateway")
        assert announced(admin, 1) == 1
        assert alice.last_text() == paid_notice(1)
        assert not any(EN("buy.confirm_button") in b for b in alice.buttons())
        assert error_texts(alice) == []

        # Nothing redelivers a failed update in polling mode: "please try again".
        stack.emulator.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=ALICE)
        await alice.send("/start")
        errors = error_texts(alice)
        assert len(errors) == 1, errors
        assert errors[0].startswith(GENERIC)
