"""A refused stock upload in the admin's language (issue 9, kind 13): the real
Dispatcher and aiogram Bot over HTTP against the Telegram emulator, on PostgreSQL."""

import re
from collections.abc import AsyncIterator

import pytest

from shopbot.bot.texts import Texts
from shopbot.domain.catalog.stock import MAX_ITEM_LENGTH
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product
from tests.e2e.bot_stack import BotStack, ChatUser, bot_stack

EN_ADMIN = 900
RU_ADMIN = 901
EN = Texts("en")
RU = Texts("ru")
SECRETS = ("OLD-SECRET-1", "NEW-SECRET-2")

# Line 1 fine, 2 an invisible character inside, 3 a duplicate of 1, 4 too long,
# 6 a second duplicate: every line problem of the parser at once.
MIXED = (
    f"{SECRETS[1]}\nNEW\u200bKEY\n{SECRETS[1]}\n{'x' * (MAX_ITEM_LENGTH + 1)}\n\n{SECRETS[1]}\n"
).encode()
CONTROLS = f"{SECRETS[1]}\nNEW-\x003\n\x07\n".encode()
IN_STOCK = f"NEW-4\n{SECRETS[0]}\n".encode()
NOT_UTF8 = b"NEW-5\nNEW-\xff6\n"


@pytest.fixture
async def stack(pg_url: str, pg_uow: UnitOfWorkFactory) -> AsyncIterator[BotStack]:
    async with bot_stack(pg_url, mode="webhook", admin_ids=[EN_ADMIN, RU_ADMIN]) as opened:
        await add_product(opened.uows, "keys", stock=[SECRETS[0]])
        yield opened


async def open_upload(admin: ChatUser, t: Texts) -> None:
    await admin.send("/admin")
    await admin.press(t("admin.section.products"))
    await admin.press("keys")
    await admin.press(t("admin.product.upload"))


async def replies(admin: ChatUser) -> list[str]:
    texts = []
    for raw in (MIXED, CONTROLS, IN_STOCK, NOT_UTF8):
        await admin.send_document("stock.txt", raw)
        texts.append(admin.last_text())
    return texts


def assert_no_secrets(text: str) -> None:
    for secret in (*SECRETS, "NEW-", "NEW\u200b"):
        assert secret not in text


async def test_a_russian_admin_reads_every_reason_in_russian(stack: BotStack) -> None:
    admin = stack.user(RU_ADMIN, "Админ", language="ru")
    await open_upload(admin, RU)

    mixed, controls, in_stock, not_utf8 = await replies(admin)

    assert mixed.splitlines() == [
        "⚠️ Ничего не добавлено.",
        "строка 2: невидимый символ U+200B",
        "строка 3: повтор строки 1",
        f"строка 4: длиннее {MAX_ITEM_LENGTH} символов (по счёту Telegram: эмодзи может"
        " считаться за 2)",
        "строка 6: повтор строки 1",
    ]
    assert controls.splitlines()[1:] == [
        "строка 2: управляющий символ U+0000",
        "строка 3: управляющий символ U+0007",
    ]
    assert in_stock.splitlines()[1:] == ["строка 2: этот товар уже есть на складе"]
    assert not_utf8.splitlines()[1:] == [
        "строка 2: байт, который не является текстом UTF-8; сохраните файл в UTF-8"
    ]
    for reply in (mixed, controls, in_stock, not_utf8):
        # No English reason words: only the technical names UTF and Telegram.
        assert set(re.findall(r"[A-Za-z]{3,}", reply)) <= {"UTF", "Telegram"}, reply
        assert_no_secrets(reply)
    assert "ZERO WIDTH" not in mixed


async def test_an_english_admin_reads_the_same_in_english(stack: BotStack) -> None:
    admin = stack.user(EN_ADMIN, "Admin")
    await open_upload(admin, EN)

    mixed, controls, in_stock, not_utf8 = await replies(admin)

    assert mixed.splitlines() == [
        "⚠️ Nothing was added.",
        "line 2: invisible character U+200B",
        "line 3: duplicate of line 1",
        f"line 4: longer than {MAX_ITEM_LENGTH} characters (as Telegram counts them: an emoji"
        " may count 2)",
        "line 6: duplicate of line 1",
    ]
    assert controls.splitlines()[1:] == [
        "line 2: control character U+0000",
        "line 3: control character U+0007",
    ]
    assert in_stock.splitlines()[1:] == ["line 2: this item is already in stock"]
    assert not_utf8.splitlines()[1:] == [
        "line 2: a byte that is not UTF-8 text; save the file as UTF-8"
    ]
    for reply in (mixed, controls, in_stock, not_utf8):
        assert not re.search("[\u0400-\u04ff]", reply)
        assert "invalid stock file" not in reply  # the CLI's text, not the bot's
        assert_no_secrets(reply)
    async with stack.uows() as uow:
        product = await uow.catalog.get_product("keys")
        assert product is not None
        assert await uow.stock.available(product.id) == 1  # nothing was added


async def test_many_problems_list_twenty_then_count_the_rest(stack: BotStack) -> None:
    admin = stack.user(RU_ADMIN, "Админ", language="ru")
    await open_upload(admin, RU)

    await admin.send_document("many.txt", b"NEW-7\n" * 4001)

    lines = admin.last_text().splitlines()
    assert lines[1] == "строка 2: повтор строки 1"
    assert lines[20] == "строка 21: повтор строки 1"
    assert lines[21:] == ["… и ещё 3980"]
