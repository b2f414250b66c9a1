"""Impossible identifiers from outside (deep links, forged buttons, typed ids) are
ignored or "not found", never an error: real aiogram against the Telegram emulator.
One stack per mode carries every input, so each case costs an update, not a stack."""

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from shopbot.bot.texts import Texts
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.e2e.bot_stack import bot_stack
from tests.e2e.test_bot_customer import ALICE, REFERRER, assert_api_calls_ok, plain

NINES = "9" * 20
LINKS = [
    f"ref_{NINES}",
    NINES,
    f"ref_{2**63}",  # one past BIGINT
    "ref_0",
    "ref_" + "\u0661\u0662",  # Arabic-Indic digits: int() would read them
    "ref_{me}",  # oneself
    "ref_424242",  # nobody
]
FORGED = [
    f"prod:{NINES}:0:0",
    "prod:-1:0:0",
    f"cat:{NINES}:0",
    f"cat:1:{NINES}",
    f"ord:{NINES}",
    f"buy:{NINES}:abc",
    f"top:{NINES}:0",
    f"tpm:heleket:{NINES}:0",
    f"chk:{2**63}",
    f"ords:{NINES}",
    f"admu:{NINES}:show",
    f"admp:{NINES}:show",
    f"admo:{NINES}",
    f"rf:order:{NINES}",
    f"rf:stars:{NINES}",
    f"mny:order:{NINES}:abc:1",
    f"mny:stars:{2**63}:abc:0",
    f"admd:credit:{NINES}",
    "admd:debit:\u00b2",  # isdigit() is True for a superscript two, int() fails
]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_start_with_an_impossible_referrer_welcomes_and_registers(
    pg_url: str, pg_uow: UnitOfWorkFactory, mode: str
) -> None:
    async with bot_stack(pg_url, mode=mode) as stack:
        await stack.user(REFERRER, "Ref").send("/start")
        for number, link in enumerate(LINKS):
            me = ALICE + 100 + number
            newcomer = stack.user(me, "Alice", language="en")

            await newcomer.send(f"/start {link.format(me=me)}")

            assert newcomer.last_text() == plain(Texts("en")("start.welcome", name="Alice")), link
            async with pg_uow() as uow:
                registered = await uow.users.get(me)
            assert registered is not None, link
            assert registered.referrer_id is None, link
        assert [d for d in stack.emulator.deliveries() if not d["ok"]] == []
        assert_api_calls_ok(stack)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_forged_buttons_with_impossible_numbers_are_answered(pg_url: str, mode: str) -> None:
    async with bot_stack(pg_url, mode=mode, admin_ids=[ALICE]) as stack:
        alice = stack.user(ALICE, "Alice", language="en")
        await alice.send("/start")
        for data in FORGED:
            # A button the bot never made (an old bot version, a tampering client): the
            # bot itself sends it, since the emulator only presses buttons that exist.
            forged = InlineKeyboardButton(text=f"forged {data}", callback_data=data)
            await stack.bot.send_message(
                ALICE, "old", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[forged]])
            )
            await stack.idle()

            query_id = await alice.press(f"forged {data}")

            answer = stack.emulator.callback_answer(query_id)
            assert answer.answered, data
            assert answer.text in {
                Texts("en")("unknown.text"),
                Texts("en")("admin.expired"),
            }, data
        assert [d for d in stack.emulator.deliveries() if not d["ok"]] == []
        assert_api_calls_ok(stack)
