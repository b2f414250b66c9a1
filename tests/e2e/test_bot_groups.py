"""Customer data only in the customer's private chat (issue 9): the real bot in a
supergroup of the Telegram emulator. Commands get a pointer to the private chat, button
presses a notice; nothing of anyone's balance, orders or keys reaches the group. The
support chat may be a group: its relay keeps working, and nothing else does there."""

import pytest

from shopbot.bot.callbacks import (
    AdminCB,
    AdminSection,
    AdminUserAction,
    AdminUserCB,
    BuyCB,
    CheckPaymentCB,
    LanguageCB,
    MenuCB,
    MenuTarget,
    OrderCB,
    RefundCB,
    RefundKind,
    TopupCB,
)
from shopbot.bot.keyboards import button, main_menu, rows
from shopbot.bot.texts import Texts
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.e2e.bot_stack import BOT_USERNAME, BotStack, bot_stack
from tests.e2e.test_bot_customer import (
    ADMIN,
    ALICE,
    BORIS,
    assert_api_calls_ok,
    buy,
    credit,
    plain,
    shop,
)

GROUP = -1001234567890
SUPPORT_GROUP = -1005555555555
MEMBERS = list(range(3001, 3012))  # one member per command: the pointer is throttled per member
COMMANDS = [
    "/start",
    f"/start@{BOT_USERNAME}",
    "/help",
    f"/help@{BOT_USERNAME}",
    "/language",
    "/paysupport",
    "/admin",
    f"/admin@{BOT_USERNAME}",
    "/cancel",
    f"/start@{BOT_USERNAME} 2001",
    "/orders",
]
SECRETS = ("KEY-AAAA", "16.50", "20.00", "Product key", "#1")


def group_texts(stack: BotStack, chat_id: int = GROUP) -> list[str]:
    return [
        m.text or m.caption or "" for m in stack.emulator.messages(chat_id) if m.sender == "bot"
    ]


def assert_nothing_private(stack: BotStack, chat_id: int = GROUP) -> None:
    for text in group_texts(stack, chat_id):
        for secret in SECRETS:
            assert secret not in text


async def alice_with_an_order(stack: BotStack, uows: UnitOfWorkFactory, t: Texts) -> None:
    alice = stack.user(ALICE, "Alice", username="alice")
    await alice.send("/start")
    await credit(uows, ALICE, "20.00")
    delivered = await buy(alice, t, "key", "3.50", stack.ctx.currency)
    assert "KEY-AAAA-1111" in delivered


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_group_menu_never_shows_anyones_data(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    await shop(pg_uow)
    t = Texts("en")
    async with bot_stack(pg_url, mode=mode, admin_ids=[ADMIN]) as stack:
        await alice_with_an_order(stack, pg_uow, t)
        emu = stack.emulator
        stack.user(BORIS, "Boris")
        emu.create_group(GROUP, "Shop fans", members=[ALICE, BORIS, ADMIN, *MEMBERS])
        await stack.idle()
        assert group_texts(stack) == []  # added to a group: the bot stays silent
        assert not emu.calls("leaveChat")

        # the scenario: /start@bot in the supergroup, another member presses the menu
        emu.send_group_text(GROUP, ALICE, f"/start@{BOT_USERNAME}")
        await stack.idle()
        pointer = emu.last_bot_message(GROUP)
        assert pointer is not None
        assert pointer.text == plain(t("groups.private_only"))
        assert pointer.buttons == [
            [{"text": t("groups.open_button"), "url": f"https://t.me/{BOT_USERNAME}"}]
        ]
        # a menu the bot posted before this rule (or any bot message with buttons)
        old = await stack.bot.send_message(GROUP, t("menu.title"), reply_markup=main_menu(t))
        query_id = emu.press_in_group(
            GROUP, BORIS, old.message_id, MenuCB(to=MenuTarget.BALANCE).pack()
        )
        answer = await emu.wait_callback_answer(query_id)
        await stack.idle()
        assert (answer.text, answer.show_alert) == (plain(t("groups.button_notice")), True)
        pressed = emu.chat(GROUP).find(old.message_id)
        assert pressed is not None
        assert pressed.text == t("menu.title")
        assert pressed.buttons == []  # nobody presses that menu again
        assert emu.messages(BORIS) == []  # nothing in Boris's chat either
        assert_nothing_private(stack)
        async with pg_uow() as uow:
            assert await uow.users.get(BORIS) is None  # group traffic registers nobody
        assert_api_calls_ok(stack)


async def test_every_command_and_button_in_a_group(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await shop(pg_uow)
    t = Texts("en")
    async with bot_stack(pg_url, admin_ids=[ADMIN]) as stack:
        await alice_with_an_order(stack, pg_uow, t)
        emu = stack.emulator
        emu.create_group(GROUP, "Shop fans", members=[ALICE, ADMIN, *MEMBERS])
        for member, command in zip(MEMBERS, COMMANDS, strict=True):
            emu.send_group_text(GROUP, member, command)
        emu.send_group_text(GROUP, ADMIN, f"/admin@{BOT_USERNAME}")
        emu.send_group_text(GROUP, ADMIN, "/start")  # the same member again at once: throttled
        emu.send_group_text(GROUP, None, "/start", as_chat=GROUP)  # an anonymous admin
        emu.send_group_text(GROUP, ALICE, "/start@other_bot")  # not for us: never delivered
        await stack.idle()
        texts = group_texts(stack)
        assert texts == [plain(t("groups.private_only"))] * (len(COMMANDS) + 2)
        links = [m.buttons[0][0]["url"] for m in emu.messages(GROUP) if m.sender == "bot"]
        assert f"https://t.me/{BOT_USERNAME}?start=2001" in links  # the deep link carried over

        # every kind of button, pressed in the group by its owner, an admin and a stranger
        forged = [
            MenuCB(to=to)
            for to in ("home", "catalog", "balance", "topup", "orders", "support", "language")
        ] + [
            OrderCB(order_id=1),
            CheckPaymentCB(invoice_id=1),
            BuyCB(product_id=1, nonce="abc"),
            TopupCB(amount_cents=500),
            LanguageCB(code="ru"),
            AdminCB(to=AdminSection.STATS),
            AdminUserCB(user_id=ALICE, action=AdminUserAction.SHOW),
            RefundCB(kind=RefundKind.ORDER, ref=1),
        ]
        alice_sees = len(emu.messages(ALICE))
        for presser in (ALICE, ADMIN, MEMBERS[0]):
            for data in forged:
                sent = await stack.bot.send_message(
                    GROUP, "old", reply_markup=rows([button("x", data)])
                )
                query_id = emu.press_in_group(GROUP, presser, sent.message_id, data.pack())
                answer = await emu.wait_callback_answer(query_id)
                assert answer.text == plain(t("groups.button_notice"))
        await stack.idle()
        assert set(group_texts(stack)) == {plain(t("groups.private_only")), "old"}
        assert_nothing_private(stack)
        assert len(emu.messages(ALICE)) == alice_sees  # nothing opened in private either
        assert emu.messages(ADMIN) == []  # the admin's screens never opened anywhere
        async with pg_uow() as uow:
            assert await uow.users.get(MEMBERS[0]) is None
            alice = await uow.users.get(ALICE)
            assert alice is not None
            assert alice.language == "en"  # the group's LanguageCB changed nothing


async def test_support_relay_in_a_support_group(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    t = Texts("en")
    async with bot_stack(pg_url, admin_ids=[ADMIN], support_chat_id=SUPPORT_GROUP) as stack:
        emu = stack.emulator
        alice = stack.user(ALICE, "Alice")
        stack.user(ADMIN, "Admin")
        emu.create_group(SUPPORT_GROUP, "Support", members=[ADMIN, BORIS], type="supergroup")
        await alice.send("/start")
        await alice.press(t("menu.support"))
        await alice.send("Where is my key?")
        assert alice.last_text() == plain(t("support.sent"))
        header = emu.last_bot_message(SUPPORT_GROUP)
        assert header is not None
        assert (header.text or "").startswith(f"#u{ALICE} ")

        emu.send_group_text(SUPPORT_GROUP, ADMIN, "Sent it again", reply_to=header.message_id)
        await stack.idle()
        assert alice.last_text() == plain(t("support.reply", text="Sent it again"))
        assert group_texts(stack, SUPPORT_GROUP)[-1] == plain(
            t("support.reply_sent", user_id=ALICE)
        )
        # an admin's command in the support group opens no admin screen there
        emu.send_group_text(SUPPORT_GROUP, ADMIN, f"/admin@{BOT_USERNAME}")
        await stack.idle()
        assert group_texts(stack, SUPPORT_GROUP)[-1] == plain(t("groups.private_only"))
        assert emu.messages(ADMIN) == []
        assert_api_calls_ok(stack)
