"""The real `shopbot` command, run as a subprocess against PostgreSQL (and once SQLite).

Each run gets a clean environment (no shopbot setting inherited from the developer's
shell) and runs in a temporary directory, so no `.env` file is read.
"""

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.config import Settings
from shopbot.domain.ledger import SystemAccount, user_account
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.models import LedgerTransactionRow, StockItemRow
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import create_database, drop_database, truncate_all

pytestmark = pytest.mark.postgres

REAL_TOKEN = "7312345678:AAHd9xQ2v-real-looking_token_ZpT4"

CATALOG = """\
categories:
  - slug: games
    title: {ru: Игры, en: Games}
    products:
      - sku: game-key
        kind: stock
        title: {ru: Ключ игры, en: Game key}
        price: 9.99
      - sku: guide
        kind: unlimited
        title: Strategy guide
        price: 5
        content: https://example.com/guide.pdf
products:
  - sku: logo
    kind: manual
    title: {ru: Логотип, en: Logo design}
    price: "20,50"
"""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Listed:
    kind: str
    price: Decimal
    currency: str
    stock: str
    state: str
    title: str


def clean_env(database_url: str, **extra: str) -> dict[str, str]:
    setting_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in setting_names}
    env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


async def shopbot(cwd: Path, database_url: str, *args: str, **env: str) -> Run:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        *args,
        cwd=cwd,
        env=clean_env(database_url, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    run = Run(process.returncode, stdout.decode(), stderr.decode())
    # Whatever happens, an operator gets a message, never a stack trace.
    assert "Traceback" not in run.stderr, run.stderr
    return run


def parse_listing(stdout: str) -> dict[str, Listed]:
    products = {}
    for line in stdout.splitlines():
        sku, kind, price, currency, stock, state, *title = line.split()
        assert stock.startswith("stock=")
        products[sku] = Listed(
            kind, Decimal(price), currency, stock.removeprefix("stock="), state, " ".join(title)
        )
    return products


@dataclass
class Shop:
    """One migrated PostgreSQL database, emptied before each test, and a work directory."""

    url: str
    engine: AsyncEngine
    cwd: Path

    @property
    def uow(self) -> UnitOfWorkFactory:
        return UnitOfWorkFactory(create_session_factory(self.engine))

    async def run(self, *args: str, **env: str) -> Run:
        return await shopbot(self.cwd, self.url, *args, **env)

    def file(self, name: str, content: str) -> str:
        path = self.cwd / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    async def listing(self) -> dict[str, Listed]:
        result = await self.run("catalog", "list")
        assert result.code == 0, result.output
        return parse_listing(result.stdout)

    async def import_catalog(self, content: str = CATALOG) -> Run:
        result = await self.run("catalog", "import", self.file("catalog.yaml", content))
        assert result.code == 0, result.output
        return result

    async def add_user(self, user_id: int, username: str | None = None) -> None:
        async with self.uow() as uow:
            await uow.users.register(user_id, username=username, language="en")
            await uow.commit()

    async def balance(self, account: str) -> Decimal:
        async with self.uow() as uow:
            return await uow.ledger.balance(account)

    async def transactions(self) -> int:
        async with self.uow() as uow:
            return await uow.session.scalar(select(func.count(LedgerTransactionRow.id))) or 0

    async def stock_items(self) -> list[str]:
        async with self.uow() as uow:
            rows = await uow.session.scalars(select(StockItemRow.content).order_by(StockItemRow.id))
            return list(rows)


@pytest.fixture(scope="module")
async def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await create_database()
    try:
        result = await shopbot(tmp_path_factory.mktemp("upgrade"), url, "db", "upgrade")
        assert result.code == 0, result.output
        assert "is at head" in result.stdout
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="module")
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def shop(migrated_url: str, engine: AsyncEngine, tmp_path: Path) -> Shop:
    await truncate_all(engine)
    return Shop(url=migrated_url, engine=engine, cwd=tmp_path)


# --- db ---------------------------------------------------------------------------------


async def test_db_upgrade_is_repeatable(shop: Shop) -> None:
    first = await shop.run("db", "upgrade")
    second = await shop.run("db", "upgrade")

    assert first.code == 0, first.output
    assert second.code == 0, second.output
    assert second.stdout.strip().endswith("is at head")
    assert (await shop.run("ledger", "verify")).code == 0


# --- catalog ----------------------------------------------------------------------------


async def test_catalog_import_prints_counts_and_lists_products(shop: Shop) -> None:
    result = await shop.import_catalog()

    assert result.stdout.strip() == "imported 1 categories and 3 products"
    listing = await shop.listing()
    assert list(listing) == ["game-key", "guide", "logo"]
    assert listing["game-key"] == Listed("stock", Decimal("9.99"), "USD", "0", "active", "Game key")
    assert listing["guide"] == Listed(
        "unlimited", Decimal("5.00"), "USD", "-", "active", "Strategy guide"
    )
    assert listing["logo"] == Listed(
        "manual", Decimal("20.50"), "USD", "-", "active", "Logo design"
    )
    async with shop.uow() as uow:
        key = await uow.catalog.get_product("game-key")
        guide = await uow.catalog.get_product("guide")
        categories = await uow.catalog.list_categories()
    assert key is not None
    assert key.price == Decimal("9.99")
    assert guide is not None
    assert guide.content == "https://example.com/guide.pdf"
    assert [c.slug for c in categories] == ["games"]
    assert key.category_id == categories[0].id


async def test_catalog_reimport_updates_by_sku(shop: Shop) -> None:
    await shop.import_catalog()
    changed = (
        CATALOG.replace("price: 9.99", "price: 12.00")
        .replace("en: Game key", "en: Game key (EU)")
        .replace('price: "20,50"', "price: 25\n    active: false")
    )

    result = await shop.import_catalog(changed)

    assert result.stdout.strip() == "imported 1 categories and 3 products"
    listing = await shop.listing()
    assert list(listing) == ["game-key", "guide", "logo"]
    assert listing["game-key"].price == Decimal("12.00")
    assert listing["game-key"].title == "Game key (EU)"
    assert listing["logo"].price == Decimal("25.00")
    assert listing["logo"].state == "inactive"
    async with shop.uow() as uow:
        products = await uow.catalog.list_products(active_only=False)
    assert len(products) == 3
    assert {p.sku: p.price for p in products}["game-key"] == Decimal("12.00")


async def test_malformed_yaml_changes_nothing(shop: Shop) -> None:
    await shop.import_catalog()
    before = await shop.listing()
    broken = shop.file("broken.yaml", "products: [\n  - sku: new\n    price: 1\n")

    result = await shop.run("catalog", "import", broken)

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "broken.yaml is not valid YAML" in result.stderr
    assert await shop.listing() == before


async def test_catalog_with_several_errors_lists_all_and_imports_nothing(shop: Shop) -> None:
    path = shop.file(
        "bad.yaml",
        """\
products:
  - sku: good-one
    title: Good
    price: 1
  - sku: "bad sku!"
    title: Bad sku
    price: 1
  - sku: cheap
    title: Negative
    price: -5
  - sku: odd
    kind: digital
    title: Unknown kind
    price: 3
""",
    )

    result = await shop.run("catalog", "import", path)

    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: invalid catalog:",
        "  products[1].sku: must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
        "  products[2].price: amount must be positive, got -5.00",
        "  products[3].kind: must be one of ['stock', 'unlimited', 'manual']",
    ]
    assert await shop.listing() == {}


async def test_catalog_kind_cannot_change(shop: Shop) -> None:
    await shop.import_catalog()
    before = await shop.listing()
    changed = CATALOG.replace("kind: manual", "kind: stock")

    result = await shop.run("catalog", "import", shop.file("kind.yaml", changed))

    assert result.code == 1
    assert "product 'logo' is manual; its kind cannot change to stock" in result.stderr
    assert await shop.listing() == before


async def test_catalog_import_of_a_missing_file_is_a_usage_error(shop: Shop) -> None:
    result = await shop.run("catalog", "import", str(shop.cwd / "nope.yaml"))

    assert result.code == 2
    assert "does not exist" in result.stderr


# --- stock ------------------------------------------------------------------------------

SECRETS = ("STEAM-7F3K9-QX2PL-AB1CD", "STEAM-2M8TR-ZK4WW-EF5GH", "STEAM-9PL3X-MN7QQ-IJ6KL")


def assert_no_secrets(run: Run, *secrets: str) -> None:
    for secret in secrets or SECRETS:
        assert secret not in run.output


async def test_stock_add_adds_items(shop: Shop) -> None:
    await shop.import_catalog()
    path = shop.file("keys.txt", f"{SECRETS[0]}\n\n  {SECRETS[1]}  \n")

    result = await shop.run("stock", "add", "game-key", path)

    assert result.code == 0, result.output
    assert result.stdout.strip() == "added 2 items to game-key; 2 available"
    assert_no_secrets(result)
    assert (await shop.listing())["game-key"].stock == "2"
    assert await shop.stock_items() == [SECRETS[0], SECRETS[1]]

    more = await shop.run("stock", "add", "game-key", shop.file("more.txt", SECRETS[2]))

    assert more.code == 0, more.output
    assert more.stdout.strip() == "added 1 items to game-key; 3 available"
    assert (await shop.listing())["game-key"].stock == "3"


async def test_stock_duplicates_within_the_file_are_refused(shop: Shop) -> None:
    await shop.import_catalog()
    path = shop.file("keys.txt", f"{SECRETS[0]}\n{SECRETS[1]}\n\n{SECRETS[0]}\n")

    result = await shop.run("stock", "add", "game-key", path)

    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: invalid stock file:",
        "  line 4: duplicate of line 1",
    ]
    assert_no_secrets(result)
    assert (await shop.listing())["game-key"].stock == "0"
    assert await shop.stock_items() == []


async def test_stock_items_already_in_stock_are_refused(shop: Shop) -> None:
    await shop.import_catalog()
    first = await shop.run("stock", "add", "game-key", shop.file("a.txt", SECRETS[0]))
    assert first.code == 0, first.output

    result = await shop.run(
        "stock", "add", "game-key", shop.file("b.txt", f"{SECRETS[1]}\n{SECRETS[0]}\n")
    )

    assert result.code == 1
    assert "1 item(s) already in stock for 'game-key' (lines 2)" in result.stderr
    assert "nothing was added" in result.stderr
    assert_no_secrets(result)
    assert (await shop.listing())["game-key"].stock == "1"
    assert await shop.stock_items() == [SECRETS[0]]


async def test_stock_for_unknown_sku_is_refused(shop: Shop) -> None:
    await shop.import_catalog()

    result = await shop.run("stock", "add", "no-such-sku", shop.file("k.txt", SECRETS[0]))

    assert result.code == 1
    assert result.stderr.strip() == "error: product 'no-such-sku' not found"
    assert_no_secrets(result)
    assert await shop.stock_items() == []


async def test_stock_for_non_stock_product_is_refused(shop: Shop) -> None:
    await shop.import_catalog()

    for sku, kind in (("guide", "unlimited"), ("logo", "manual")):
        result = await shop.run("stock", "add", sku, shop.file("k.txt", SECRETS[0]))

        assert result.code == 1
        assert result.stderr.strip() == (
            f"error: product {sku!r} is {kind}, only stock products take items"
        )
        assert_no_secrets(result)
    listing = await shop.listing()
    assert (listing["guide"].stock, listing["logo"].stock, listing["game-key"].stock) == (
        "-",
        "-",
        "0",
    )
    assert await shop.stock_items() == []


async def test_stock_empty_file_is_refused(shop: Shop) -> None:
    await shop.import_catalog()

    result = await shop.run("stock", "add", "game-key", shop.file("empty.txt", "\n  \n"))

    assert result.code == 1
    assert result.stderr.strip() == "error: invalid stock file: no items"
    assert await shop.stock_items() == []


# --- users ------------------------------------------------------------------------------


async def test_users_show_unknown_user(shop: Shop) -> None:
    result = await shop.run("users", "show", "424242")

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "error: user 424242 not found"


async def test_users_show_new_user_without_postings(shop: Shop) -> None:
    await shop.add_user(1001, "alice")

    result = await shop.run("users", "show", "1001")

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "user      1001  @alice  language=en"
    assert lines[1] == "status    active"
    assert "balance   0.00 USD" in lines
    assert "ledger:   (empty)" in lines
    assert "orders:   (none)" in lines


async def test_users_show_balance_and_history(shop: Shop) -> None:
    await shop.add_user(1002, "bob")
    credit = await shop.run("balance", "adjust", "1002", "12.50", "--reason", "welcome bonus")
    debit = await shop.run("balance", "adjust", "1002", "2", "--debit", "--reason", "correction")
    assert credit.code == 0, credit.output
    assert debit.code == 0, debit.output

    result = await shop.run("users", "show", "1002")

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "user      1002  @bob  language=en"
    assert "balance   10.50 USD" in lines
    ledger_at = lines.index("ledger:")
    history = lines[ledger_at + 1 : ledger_at + 3]
    # Newest first.
    assert "adjustment" in history[0]
    assert "-2.00 USD  correction" in history[0]
    assert "+12.50 USD  welcome bonus" in history[1]
    assert lines[ledger_at + 3] == "orders:   (none)"


async def test_users_show_respects_shop_currency(shop: Shop) -> None:
    await shop.add_user(1003)

    result = await shop.run("users", "show", "1003", SHOP_CURRENCY="eur")

    assert result.code == 0, result.output
    assert "user      1003  @-  language=en" in result.stdout
    assert "balance   0.00 EUR" in result.stdout.splitlines()


# --- balance ----------------------------------------------------------------------------


async def test_balance_credit_and_debit(shop: Shop) -> None:
    await shop.add_user(7)

    credit = await shop.run("balance", "adjust", "7", "10", "--reason", "goodwill")

    assert credit.code == 0, credit.output
    assert credit.stdout.startswith("added 10.00 USD; balance of 7 is 10.00 USD; posting #")
    assert await shop.balance(user_account(7)) == Decimal("10.00")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-10.00")

    debit = await shop.run("balance", "adjust", "7", "3,50", "--debit", "--reason", "oops")

    assert debit.code == 0, debit.output
    assert debit.stdout.startswith("took 3.50 USD; balance of 7 is 6.50 USD; posting #")
    assert await shop.balance(user_account(7)) == Decimal("6.50")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-6.50")
    assert await shop.transactions() == 2
    async with shop.uow() as uow:
        rows = (
            await uow.session.execute(
                select(
                    LedgerTransactionRow.kind, LedgerTransactionRow.memo, LedgerTransactionRow.actor
                ).order_by(LedgerTransactionRow.id)
            )
        ).all()
    assert [(kind, memo) for kind, memo, _ in rows] == [
        ("adjustment", "goodwill"),
        ("adjustment", "oops"),
    ]
    assert all(actor.startswith("cli:") for _, _, actor in rows)


async def test_debit_beyond_balance_changes_nothing(shop: Shop) -> None:
    await shop.add_user(8)
    assert (await shop.run("balance", "adjust", "8", "5", "--reason", "start")).code == 0

    result = await shop.run("balance", "adjust", "8", "5.01", "--debit", "--reason", "too much")

    assert result.code == 1
    assert result.stderr.strip() == "error: insufficient funds on account user:8"
    assert await shop.balance(user_account(8)) == Decimal("5.00")
    assert await shop.balance(SystemAccount.ADJUSTMENTS) == Decimal("-5.00")
    assert await shop.transactions() == 1


async def test_debit_of_a_user_without_account_changes_nothing(shop: Shop) -> None:
    await shop.add_user(9)

    result = await shop.run("balance", "adjust", "9", "1", "--debit", "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == "error: insufficient funds on account user:9"
    assert await shop.transactions() == 0
    async with shop.uow() as uow:
        accounts = await uow.session.scalar(text("SELECT count(*) FROM accounts"))
    assert accounts == 0


@pytest.mark.parametrize("amount", ["-5", "0", "-0.01"])
async def test_non_positive_amount_points_to_debit(shop: Shop, amount: str) -> None:
    await shop.add_user(10)

    result = await shop.run("balance", "adjust", "10", amount, "--reason", "x")

    assert result.code == 1
    assert "AMOUNT must be positive" in result.stderr
    assert "--debit" in result.stderr
    assert await shop.transactions() == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "error: 'abc' is not a number"),
        ("1.001", "error: '1.001' has more than two decimal places"),
        ("NaN", "error: 'NaN' is not a finite number"),
        ("99999999999999999", "error: '99999999999999999' is too large"),
        ("1e999999999", "error: '1e999999999' is too large"),
        (
            "12345678901234567890123456789.001",
            "error: '12345678901234567890123456789.001' is too large",
        ),
    ],
)
async def test_invalid_amounts_are_refused(shop: Shop, amount: str, message: str) -> None:
    await shop.add_user(11)

    result = await shop.run("balance", "adjust", "11", amount, "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == message
    assert await shop.transactions() == 0


async def test_reason_is_required(shop: Shop) -> None:
    await shop.add_user(12)

    result = await shop.run("balance", "adjust", "12", "5")

    assert result.code == 2
    assert "Missing option '--reason'" in result.stderr
    assert await shop.transactions() == 0


async def test_blank_reason_is_refused(shop: Shop) -> None:
    await shop.add_user(12)

    result = await shop.run("balance", "adjust", "12", "5", "--reason", "   ")

    assert result.code == 1
    assert result.stderr.strip() == "error: a reason is required"
    assert await shop.transactions() == 0


async def test_adjust_unknown_user(shop: Shop) -> None:
    result = await shop.run("balance", "adjust", "999", "5", "--reason", "x")

    assert result.code == 1
    assert result.stderr.strip() == "error: user 999 not found"
    assert await shop.transactions() == 0


async def test_same_idempotency_key_applies_once(shop: Shop) -> None:
    await shop.add_user(13)
    args = ("balance", "adjust", "13", "4.20", "--reason", "refund ticket 77")

    first = await shop.run(*args, "--idempotency-key", "ticket-77")
    second = await shop.run(*args, "--idempotency-key", "ticket-77")

    assert first.code == 0, first.output
    assert second.code == 0, second.output
    assert "nothing changed" not in first.stdout
    assert "balance of 13 is 4.20 USD" in second.stdout
    assert "already applied earlier under this key; nothing changed" in second.stdout
    first_posting = first.stdout.split("posting #")[1].split()[0]
    second_posting = second.stdout.split("posting #")[1].split()[0]
    assert first_posting == second_posting
    assert await shop.balance(user_account(13)) == Decimal("4.20")
    assert await shop.transactions() == 1

    third = await shop.run(*args, "--idempotency-key", "ticket-78")

    assert third.code == 0, third.output
    assert await shop.balance(user_account(13)) == Decimal("8.40")
    assert await shop.transactions() == 2


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
    result = await shop.run("config", "check", "--for", "bot", TELEGRAM_TOKEN=REAL_TOKEN)

    assert result.code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("settings ok: environment=development database=")
    assert "currency=USD" in result.stdout
    assert REAL_TOKEN not in result.output


async def test_config_check_without_process_needs_no_secrets(shop: Shop) -> None:
    result = await shop.run("config", "check")

    assert result.code == 0, result.output


async def test_config_check_masks_database_password(shop: Shop) -> None:
    url = "postgresql+asyncpg://shop:s3cr3t-pw@db.invalid:5432/shop"

    result = await shopbot(shop.cwd, url, "config", "check")

    assert result.code == 0, result.output
    assert "s3cr3t-pw" not in result.output
    assert "postgresql+asyncpg://shop:***@db.invalid:5432/shop" in result.stdout


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


# --- SQLite, the development default -----------------------------------------------------


async def test_sqlite_default_path(tmp_path: Path) -> None:
    db_path = tmp_path / "shop.db"
    url = f"sqlite+aiosqlite:///{db_path}"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    keys = tmp_path / "keys.txt"
    keys.write_text("\n".join(SECRETS) + "\n", encoding="utf-8")

    upgraded = await shopbot(tmp_path, url, "db", "upgrade")
    assert upgraded.code == 0, upgraded.output
    assert db_path.exists()

    imported = await shopbot(tmp_path, url, "catalog", "import", str(catalog))
    assert imported.code == 0, imported.output
    assert imported.stdout.strip() == "imported 1 categories and 3 products"

    added = await shopbot(tmp_path, url, "stock", "add", "game-key", str(keys))
    assert added.code == 0, added.output
    assert added.stdout.strip() == "added 3 items to game-key; 3 available"
    assert_no_secrets(added)

    again = await shopbot(tmp_path, url, "stock", "add", "game-key", str(keys))
    assert again.code == 1
    assert "3 item(s) already in stock" in again.stderr
    assert_no_secrets(again)

    listed = await shopbot(tmp_path, url, "catalog", "list")
    assert listed.code == 0, listed.output
    listing = parse_listing(listed.stdout)
    assert listing["game-key"].stock == "3"
    assert listing["game-key"].price == Decimal("9.99")

    engine = create_engine(url)
    try:
        async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
            await uow.users.register(501, username="sqlite_user", language="ru")
            await uow.commit()
    finally:
        await engine.dispose()
    adjusted = await shopbot(tmp_path, url, "balance", "adjust", "501", "7.77", "--reason", "dev")
    assert adjusted.code == 0, adjusted.output
    assert "balance of 501 is 7.77 USD" in adjusted.stdout

    verified = await shopbot(tmp_path, url, "ledger", "verify")
    assert verified.code == 0, verified.output
    assert verified.stdout.splitlines() == [
        "accounts 2, transactions 1, entries 2, sum of all entries 0.00",
        "ledger is sound",
    ]

    connection = sqlite3.connect(db_path)
    try:
        stored = connection.execute(
            "SELECT s.content FROM stock_items s JOIN products p ON p.id = s.product_id "
            "WHERE p.sku = 'game-key' ORDER BY s.id"
        ).fetchall()
        price = connection.execute("SELECT price FROM products WHERE sku = 'game-key'").fetchone()
        balance = connection.execute(
            "SELECT balance FROM accounts WHERE code = 'user:501'"
        ).fetchone()
    finally:
        connection.close()
    assert [row[0] for row in stored] == list(SECRETS)
    # Money is stored in integer minor units on SQLite.
    assert price == (999,)
    assert balance == (777,)
