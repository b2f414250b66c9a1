"""Support messages arrive whole and in one place (issue 9, kinds 8 and 1), end to end
through the real bot in webhook mode against the Telegram emulator: an album goes to one
chat even when the support group refuses its first item, texts and captions up to
Telegram's limits (4096 / 1024 UTF-16 units, emoji counting 2) are never cut, and a
reply to any part of a long relay reaches the customer."""

from shopbot.bot.texts import Texts
from shopbot.domain.catalog.limits import telegram_length
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.telegram import Message
from tests.e2e.bot_stack import BotStack, bot_stack
from tests.e2e.test_bot_customer import plain
from tests.e2e.test_bot_support_failures import photos

EN = Texts("en")
ADMIN, SECOND_ADMIN, ALICE = 900, 901, 1001
GROUP = -100500
LONGEST_TEXT = "😀" * 2000 + "x" * 91 + " end."  # 4096 UTF-16 units
LONGEST_CAPTION = "🙂" * 500 + "y" * 24  # 1024 UTF-16 units


def relayed_since(stack: BotStack, chat_id: int, count: int) -> list[Message]:
    return [m for m in stack.emulator.messages(chat_id) if m.sender == "bot"][count:]


def body(message: Message) -> str:
    """A relayed part's text after its tagged first line(s)."""
    return (message.text or "").split("\n\n", 1)[1]


async def test_support_messages_arrive_whole_and_in_one_chat(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    assert telegram_length(LONGEST_TEXT) == 4096
    assert telegram_length(LONGEST_CAPTION) == 1024
    async with bot_stack(
        pg_url, mode="webhook", admin_ids=[ADMIN, SECOND_ADMIN], support_chat_id=GROUP
    ) as stack:
        emu = stack.emulator
        admin, second = stack.user(ADMIN, "Admin"), stack.user(SECOND_ADMIN, "Second")
        await admin.send("/start")
        await second.send("/start")
        emu.create_group(GROUP, "Support", members=[ADMIN], bot_is_admin=True)
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")

        # The group refuses the album's first photo for good: the whole album goes to
        # the next admin, none of it to the group.
        await alice.press(EN("menu.support"))
        emu.faults.inject("sendPhoto", 400, "Bad Request: chat not found", chat_id=GROUP, times=1)
        in_group = len(relayed_since(stack, GROUP, 0))
        await alice.send_album(photos(3), caption="my album")
        assert relayed_since(stack, GROUP, in_group) == []
        relayed = [m for m in admin.messages(sender="bot") if m.photo]
        assert [m.photo[-1]["width"] for m in relayed if m.photo] == [100, 101, 102]
        assert (relayed[0].caption or "").endswith("my album")
        assert second.messages(sender="bot")[1:] == []
        assert alice.last_text() == plain(EN("support.sent"))

        # A text of exactly 4096 units: all of it arrives, in tagged parts.
        await alice.press(EN("menu.support"))
        in_group = len(relayed_since(stack, GROUP, 0))
        await alice.send(LONGEST_TEXT)
        parts = relayed_since(stack, GROUP, in_group)
        assert len(parts) == 2
        assert "".join(body(m) for m in parts) == LONGEST_TEXT
        assert all((m.text or "").startswith(f"#u{ALICE} ") for m in parts)
        assert parts[1].reply_to_message_id == parts[0].message_id
        assert alice.last_text() == plain(EN("support.sent"))

        # An answer to the last part reaches her, and a 4096-unit answer arrives whole.
        before = len(alice.messages(sender="bot"))
        emu.send_group_text(GROUP, ADMIN, LONGEST_TEXT, reply_to=parts[-1].message_id)
        await stack.idle()
        got = [m.text or "" for m in alice.messages(sender="bot")[before:]]
        assert got[0] == plain(EN("support.reply_title"))
        assert "".join(got[1:]) == LONGEST_TEXT
        assert [m.text for m in emu.messages(GROUP) if m.sender == "bot"][-1] == plain(
            EN("support.reply_sent", user_id=ALICE)
        )

        # A short answer still comes in one message under its title.
        emu.send_group_text(GROUP, ADMIN, "Fixed 😀", reply_to=parts[0].message_id)
        await stack.idle()
        assert alice.last_text() == plain(EN("support.reply", text="Fixed 😀"))

        # A caption of 1024 units does not fit beside the header: the photo goes with
        # the header, the whole caption follows as a tagged reply to it.
        await alice.press(EN("menu.support"))
        in_group = len(relayed_since(stack, GROUP, 0))
        await alice.send_album(photos(2), caption=LONGEST_CAPTION)
        posted = relayed_since(stack, GROUP, in_group)
        [text] = [m for m in posted if not m.photo]
        assert body(text) == LONGEST_CAPTION
        assert (text.text or "").startswith(f"#u{ALICE} ")
        assert text.reply_to_message_id == posted[0].message_id
        assert len([m for m in posted if m.photo]) == 2
        assert all(d["ok"] for d in emu.deliveries())
