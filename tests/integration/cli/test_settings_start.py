"""Copy `.env.example`, fill in, run: every command starts or refuses in one line, and
`config check --for X` refuses exactly where command X would."""

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from shopbot.persistence.engine import create_engine
from shopbot.persistence.migrate import alembic_config
from tests.conftest import create_database, drop_database
from tests.integration.cli.harness import REAL_TOKEN, Run, Shop, shopbot

pytestmark = pytest.mark.postgres

HELEKET = {
    "HELEKET_MERCHANT_ID": "c26b80a8-4d2d-4f1e-9e3b-2a1d5b1b7f10",
    "HELEKET_API_KEY": "hk-api-5d2f8e6b0a",
    "HELEKET_PAYOUT_KEY": "hk-payout-1a7c3e9d",
    "PUBLIC_BASE_URL": "https://shop.example.com",
}
# Each command that touches the database, the bot and the webhook service included.
DATABASE_COMMANDS = (
    ("config", "check"),
    ("config", "check", "--for", "bot"),
    ("config", "check", "--for", "webhook"),
    ("users", "show", "1"),
    ("ledger", "verify"),
    ("catalog", "list"),
    ("bot",),
    ("webhook",),
)
RUNNABLE = {"TELEGRAM_TOKEN": REAL_TOKEN, "ADMIN_IDS": "111", **HELEKET}


def refused(runs: list[Run], code: int, line: str) -> None:
    """Every run exited with `code` and said exactly `line` on stderr, nothing else."""
    for run in runs:
        assert (run.code, run.stdout, run.stderr.splitlines()) == (code, "", [line]), run.output


def fill(env_file: Path, **values: str) -> None:
    lines = env_file.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        name = line.partition("=")[0]
        if name in values:
            lines[index] = f"{name}={values.pop(name)}"
    assert not values, f"not in .env.example: {values}"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_the_env_example_works_when_copied(repo_root: Path, tmp_path: Path) -> None:
    shutil.copy(repo_root / ".env.example", tmp_path / ".env")

    async def run(*args: str) -> Run:
        return await shopbot(tmp_path, None, *args)  # DATABASE_URL from .env

    before = [await run("config", "check"), await run("users", "show", "5")]
    refused(
        before, 2, "shopbot: the SQLite file ./shopbot.db does not exist: run `shopbot db upgrade`"
    )
    assert not (tmp_path / "shopbot.db").exists()  # a check creates no empty database

    upgraded = await run("db", "upgrade")
    assert upgraded.code == 0, upgraded.output
    checked = await run("config", "check")
    assert checked.code == 0, checked.output
    assert checked.stdout.startswith("settings ok: environment=development")
    refused([await run("users", "show", "5")], 1, "error: user 5 not found")
    assert (await run("ledger", "verify")).code == 0
    refused(
        [await run("config", "check", "--for", "bot"), await run("bot")],
        2,
        "shopbot: TELEGRAM_TOKEN is not set or is a placeholder; set it in the environment "
        "or in .env",
    )

    fill(tmp_path / ".env", TELEGRAM_TOKEN=REAL_TOKEN, ADMIN_IDS="111", **HELEKET)
    for process in ("bot", "webhook", "cli"):
        ready = await run("config", "check", "--for", process)
        assert (ready.code, ready.stderr) == (0, ""), ready.output
    both = await run("config", "check", "--for", "bot", "--for", "webhook")
    assert both.code == 0, both.output
    for secret in (REAL_TOKEN, HELEKET["HELEKET_API_KEY"], HELEKET["HELEKET_PAYOUT_KEY"]):
        assert secret not in both.output


async def test_a_database_that_refuses_connections(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://shop:s3cr3t-pw@127.0.0.1:1/shop"

    runs = [await shopbot(tmp_path, url, *args, **RUNNABLE) for args in DATABASE_COMMANDS]
    runs.append(await shopbot(tmp_path, url, "db", "upgrade"))

    refused(
        runs,
        1,
        "shopbot: database at 127.0.0.1:1 refused the connection — is PostgreSQL running? "
        "DATABASE_URL=postgresql+asyncpg://shop:***@127.0.0.1:1/shop",
    )


HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    url = await create_database()
    try:
        runs = [await shopbot(tmp_path, url, *args, **RUNNABLE) for args in DATABASE_COMMANDS]
        refused(
            runs,
            2,
            f"shopbot: the database has no schema: run `shopbot db upgrade` (DATABASE_URL={url})",
        )
        assert (await shopbot(tmp_path, url, "db", "upgrade", "--revision", "0003")).code == 0
        behind = await shopbot(tmp_path, url, "users", "show", "1")
        refused(
            [behind],
            2,
            f"shopbot: the database schema is behind this version (at 0003, needs {HEAD}): "
            f"run `shopbot db upgrade` (DATABASE_URL={url})",
        )
        assert (await shopbot(tmp_path, url, "db", "upgrade")).code == 0
        assert (await shopbot(tmp_path, url, "config", "check")).code == 0

        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        await engine.dispose()
        ahead = await shopbot(tmp_path, url, "ledger", "verify")
        refused(
            [ahead],
            2,
            "shopbot: the database is at revision 0099, which this shopbot does not know (a "
            f"newer version migrated it): run that version or a newer one (DATABASE_URL={url})",
        )
    finally:
        await drop_database(url)


async def test_a_missing_database_or_user(shop: Shop) -> None:
    missing = shop.url.rsplit("/", 1)[0] + "/no_such_shop"
    nobody = shop.url.replace("postgres@", "no_such_role:pw@")

    refused(
        [await shopbot(shop.cwd, missing, "ledger", "verify")],
        2,
        'shopbot: database at 127.0.0.1:5432: database "no_such_shop" does not exist — create '
        f"it (createdb) or fix the name in DATABASE_URL={missing}",
    )
    refused(
        [await shopbot(shop.cwd, nobody, "db", "upgrade")],
        2,
        'shopbot: database at 127.0.0.1:5432: role "no_such_role" does not exist — check the '
        f"user name in DATABASE_URL={nobody.replace(':pw@', ':***@')}",
    )


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://", "postgresql+psycopg2://"])
async def test_pasted_postgres_urls_use_the_async_driver(shop: Shop, scheme: str) -> None:
    await shop.add_user(77, "pasted")
    pasted = shop.url.replace("postgresql+asyncpg://", scheme)

    shown = await shopbot(shop.cwd, pasted, "users", "show", "77")

    assert shown.code == 0, shown.output
    assert "@pasted" in shown.stdout


async def test_a_pasted_sqlite_url(tmp_path: Path) -> None:
    upgraded = await shopbot(tmp_path, "sqlite:///shop.db", "db", "upgrade")

    assert upgraded.code == 0, upgraded.output
    assert upgraded.stdout.strip() == "database sqlite+aiosqlite:///shop.db is at head"
    assert (await shopbot(tmp_path, "sqlite:///shop.db", "ledger", "verify")).code == 0


# --- settings refused at start: the command and `config check --for` say the same ----------


async def test_topup_min_above_max(shop: Shop) -> None:
    runs = [
        await shop.run(*args, TOPUP_MIN="100", TOPUP_MAX="10")
        for args in (("config", "check"), ("users", "show", "1"))
    ]
    refused(
        runs,
        2,
        "shopbot: invalid settings: TOPUP_MIN (100.00) is larger than TOPUP_MAX (10.00); "
        "make TOPUP_MIN at most TOPUP_MAX",
    )


async def test_admin_ids_given_as_usernames(shop: Shop) -> None:
    refused(
        [await shop.run("config", "check", ADMIN_IDS="@admin")],
        2,
        "shopbot: invalid setting ADMIN_IDS: '@admin' is not a numeric Telegram user id; "
        "expected comma-separated numeric Telegram user ids (ASCII digits, 1 to "
        "9223372036854775807), e.g. 123456789,987654321; @usernames are not ids — ask "
        "@userinfobot for yours",
    )


async def test_impossible_ids_and_numbers_stop_the_check(shop: Shop) -> None:
    """Each gave "settings ok" (ADMIN_IDS=١٢٣ was admin 123) or a traceback (1e30)."""
    cases = {
        "ADMIN_IDS": "\u0661\u0662\u0663",
        "SUPPORT_CHAT_ID": "99999999999999999999999",
        "WEBHOOK_PORT": "8_001",
        "TOPUP_MAX": "1e30",
    }
    results = [await shop.run("config", "check", **{name: raw}) for name, raw in cases.items()]

    for (name, raw), result in zip(cases.items(), results, strict=True):
        assert result.code == 2, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith(f"shopbot: invalid setting {name}: "), line
        assert raw in line, line
        assert "; expected " in line, line
        assert "Traceback" not in result.output
    ok = await shop.run(
        "config", "check", ADMIN_IDS="9223372036854775807", SUPPORT_CHAT_ID="-1001234567890"
    )
    assert ok.code == 0, ok.output


async def test_every_invalid_setting_gets_its_own_line(shop: Shop) -> None:
    result = await shop.run("config", "check", WEBHOOK_PORT="http", LOG_LEVEL="loud")

    assert result.code == 2
    assert [line.split(":")[1] for line in result.stderr.splitlines()] == [
        " invalid setting LOG_LEVEL",
        " invalid setting WEBHOOK_PORT",
    ]


async def test_empty_values_documented_as_defaults(shop: Shop) -> None:
    result = await shop.run(
        "config", "check", SUPPORT_CHAT_ID="", ADMIN_IDS="", REDIS_URL="", PUBLIC_BASE_URL=""
    )

    assert (result.code, result.stderr) == (0, ""), result.output


async def test_webhook_mode_needs_its_secret_and_public_url(shop: Shop) -> None:
    env = {**RUNNABLE, "BOT_MODE": "webhook"}
    del env["PUBLIC_BASE_URL"]
    no_secret = [
        await shop.run(*args, **env) for args in (("config", "check", "--for", "bot"), ("bot",))
    ]
    refused(
        no_secret,
        2,
        "shopbot: TELEGRAM_WEBHOOK_SECRET is not set or is a placeholder; set it in the "
        "environment or in .env",
    )
    env["TELEGRAM_WEBHOOK_SECRET"] = "whsec-9c1e07a4b3"
    no_url = [
        await shop.run(*args, **env) for args in (("config", "check", "--for", "bot"), ("bot",))
    ]
    refused(
        no_url,
        2,
        "shopbot: PUBLIC_BASE_URL is not set or is a placeholder; set it in the environment "
        "or in .env",
    )
    env["PUBLIC_BASE_URL"] = "http://shop.example.com"
    plain_http = [
        await shop.run(*args, **env) for args in (("config", "check", "--for", "bot"), ("bot",))
    ]
    refused(
        plain_http,
        2,
        "shopbot: PUBLIC_BASE_URL must be https:// on port 443, 80, 88 or 8443 for "
        "BOT_MODE=webhook: Telegram delivers webhooks nowhere else (Bot API setWebhook)",
    )
    env["PUBLIC_BASE_URL"] = "https://shop.example.com"
    ready = await shop.run("config", "check", "--for", "bot", **env)
    assert (ready.code, ready.stderr) == (0, ""), ready.output


async def test_half_a_heleket_configuration_stops_the_bot(shop: Shop) -> None:
    env = {**RUNNABLE, "HELEKET_API_KEY": "changeme"}
    runs = [
        await shop.run(*args, **env) for args in (("config", "check", "--for", "bot"), ("bot",))
    ]
    refused(
        runs,
        2,
        "shopbot: HELEKET_API_KEY is not set or is a placeholder; set it in the environment "
        "or in .env",
    )


async def test_the_webhook_service_needs_the_telegram_token(shop: Shop) -> None:
    env = {**RUNNABLE, "TELEGRAM_TOKEN": "changeme"}
    runs = [
        await shop.run(*args, **env)
        for args in (("config", "check", "--for", "webhook"), ("webhook",))
    ]
    refused(
        runs,
        2,
        "shopbot: TELEGRAM_TOKEN is not set or is a placeholder; set it in the environment or "
        "in .env (the webhook service messages customers about their payments and completes "
        "the purchases they topped up for)",
    )


async def test_redis_that_does_not_answer(shop: Shop) -> None:
    env = {**RUNNABLE, "REDIS_URL": "redis://:r3dis-pw@127.0.0.1:1/0"}
    result = await shop.run("config", "check", "--for", "bot", **env)

    assert result.code == 1
    assert "r3dis-pw" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("shopbot: Redis at redis://:***@127.0.0.1:1/0 is not usable (")
    assert line.endswith(") — is it running? REDIS_URL")
