"""Copy `.env.example`, fill in, run: every command starts or refuses in one line, and
`config check --for X` refuses exactly where command X would."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from shopbot.persistence.engine import create_engine
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
            "shopbot: the database schema is behind this version (at 0003, needs 0005): "
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
