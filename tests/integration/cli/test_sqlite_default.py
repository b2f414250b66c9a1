"""The `shopbot` command: SQLite."""

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.integration.cli.harness import (
    CATALOG,
    SECRETS,
    assert_no_secrets,
    parse_listing,
    shopbot,
)

pytestmark = pytest.mark.postgres

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
