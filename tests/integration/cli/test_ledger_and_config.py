"""The `shopbot` command: ledger, config."""

import pytest
from sqlalchemy import text

from shopbot.domain.ledger import user_account
from tests.integration.cli.harness import (
    REAL_TOKEN,
    Shop,
    shopbot,
)

pytestmark = pytest.mark.postgres

# --- ledger -----------------------------------------------------------------------------


async def test_ledger_verify_detects_a_tampered_balance(shop: Shop) -> None:
    await shop.add_user(21)
    await shop.add_user(22)
    for user_id, amount in (("21", "10"), ("22", "3.33")):
        adjusted = await shop.run("balance", "adjust", user_id, amount, "--reason", "seed")
        assert adjusted.code == 0, adjusted.output

    sound = await shop.run("ledger", "verify")

    assert sound.code == 0, sound.output
    assert sound.stdout.splitlines() == [
        "accounts 3, transactions 2, entries 4, sum of all entries 0.00",
        "ledger is sound",
    ]

    async with shop.engine.begin() as connection:
        await connection.execute(
            text("UPDATE accounts SET balance = balance + 1 WHERE code = :code"),
            {"code": user_account(21)},
        )

    broken = await shop.run("ledger", "verify")

    assert broken.code == 1
    assert broken.stdout.splitlines() == [
        "accounts 3, transactions 2, entries 4, sum of all entries 0.00",
        "MISMATCH account user:21: stored 11.00, postings 10.00",
        "ledger is NOT sound",
    ]
    assert "user:22" not in broken.stdout


async def test_ledger_verify_on_an_empty_database(shop: Shop) -> None:
    result = await shop.run("ledger", "verify")

    assert result.code == 0, result.output
    assert result.stdout.strip().endswith("ledger is sound")


# --- config -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["changeme", "CHANGEME", ""])
async def test_config_check_refuses_placeholder_token(shop: Shop, token: str) -> None:
    result = await shop.run("config", "check", "--for", "bot", TELEGRAM_TOKEN=token)

    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("shopbot: TELEGRAM_TOKEN is not set or is a placeholder")


async def test_config_check_refuses_unset_token(shop: Shop) -> None:
    result = await shop.run("config", "check", "--for", "bot")

    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "TELEGRAM_TOKEN" in result.stderr


async def test_config_check_accepts_a_real_looking_token(shop: Shop) -> None:
    result = await shop.run(
        "config", "check", "--for", "bot", TELEGRAM_TOKEN=REAL_TOKEN, ADMIN_IDS="111"
    )

    assert result.code == 0, result.output
    # Without Heleket keys the bot starts with Stars only, and says so.
    assert result.stderr.splitlines() == [
        "shopbot: warning: HELEKET_MERCHANT_ID and HELEKET_API_KEY are not set: crypto "
        "top-ups are off (the top-up screen offers Telegram Stars only)"
    ]
    assert result.stdout.startswith("settings ok: environment=development database=")
    assert "currency=USD" in result.stdout
    assert REAL_TOKEN not in result.output


async def test_config_check_without_process_needs_no_secrets(shop: Shop) -> None:
    result = await shop.run("config", "check")

    assert result.code == 0, result.output


async def test_config_check_masks_database_password(shop: Shop) -> None:
    url = "postgresql+asyncpg://shop:s3cr3t-pw@db.invalid:5432/shop"

    result = await shopbot(shop.cwd, url, "config", "check")

    # config check connects, as every database command does; the message masks the password.
    assert result.code == 2, result.output
    assert "s3cr3t-pw" not in result.output
    assert result.stderr.splitlines() == [
        "shopbot: cannot find the database host of db.invalid:5432 — check the host name in "
        "DATABASE_URL=postgresql+asyncpg://shop:***@db.invalid:5432/shop"
    ]


async def test_invalid_currency_is_a_config_error(shop: Shop) -> None:
    result = await shop.run("config", "check", SHOP_CURRENCY="!!")

    assert result.code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("shopbot: invalid setting SHOP_CURRENCY:")


async def test_invalid_setting_stops_database_commands_too(shop: Shop) -> None:
    await shop.add_user(31)

    result = await shop.run("balance", "adjust", "31", "5", "--reason", "x", SHOP_CURRENCY="!!")

    assert result.code == 2
    assert "SHOP_CURRENCY" in result.stderr
    assert await shop.transactions() == 0


async def test_env_file_in_the_working_directory_is_read(shop: Shop) -> None:
    (shop.cwd / ".env").write_text("SHOP_CURRENCY=EUR\n", encoding="utf-8")
    # The CLI reads .env from its working directory, which is why every run uses tmp_path.
    with_env_file = await shop.run("config", "check")
    (shop.cwd / ".env").unlink()
    without = await shop.run("config", "check")

    assert "currency=EUR" in with_env_file.stdout
    assert "currency=USD" in without.stdout
