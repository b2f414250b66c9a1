"""The `shopbot` command: db, catalog."""

from decimal import Decimal

import pytest

from tests.integration.cli.harness import (
    CATALOG,
    Listed,
    Shop,
)

pytestmark = pytest.mark.postgres

# --- db ---------------------------------------------------------------------------------


async def test_db_upgrade_is_repeatable(shop: Shop) -> None:
    first = await shop.run("db", "upgrade")
    second = await shop.run("db", "upgrade")

    assert first.code == 0, first.output
    assert second.code == 0, second.output
    assert second.stdout.strip().endswith("is at head")
    assert (await shop.run("ledger", "verify")).code == 0


async def test_db_upgrade_never_goes_down_and_says_so(shop: Shop) -> None:
    await shop.run("db", "upgrade")
    older = await shop.run("db", "upgrade", "--revision", "0006")
    unknown = await shop.run("db", "upgrade", "--revision", "0099")

    assert older.code == 2, older.output
    assert older.stdout.strip().endswith("is at head")
    assert "stays at 0008, past 0006: `db upgrade` never goes down" in older.stderr
    assert unknown.code == 2, unknown.output
    assert "no migration '0099'" in unknown.stderr
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


async def test_yaml_number_forms_are_not_prices(shop: Shop) -> None:
    """YAML 1.1 read 015 as 13, 0x10 as 16, 1:30 as 90; "01,500" was 1.50."""
    path = shop.file(
        "forms.yaml",
        """\
products:
  - {sku: octal, kind: manual, price: 015, title: Octal}
  - {sku: hex, kind: manual, price: 0x10, title: Hex}
  - {sku: sexa, kind: manual, price: 1:30, title: Sexa}
  - {sku: lead, kind: manual, price: "01,500", title: Lead}
  - {sku: 007, kind: manual, price: 9.99, title: true}
""",
    )

    result = await shop.run("catalog", "import", path)

    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: invalid catalog:",
        "  products[0].price: '015' starts with a zero: write the amount without leading "
        "zeros, e.g. 1500, 1 500, 1,500.00, 1.500,00 or 7.50",
        "  products[1].price: '0x10' is not an amount: write 1500, 1 500, 1,500.00, "
        "1.500,00 or 7.50",
        "  products[2].price: '1:30' is not an amount: write 1500, 1 500, 1,500.00, "
        "1.500,00 or 7.50",
        "  products[3].price: '01,500' starts with a zero: write the amount without leading "
        "zeros, e.g. 1500, 1 500, 1,500.00, 1.500,00 or 7.50",
    ]
    assert await shop.listing() == {}

    fixed = shop.file("fixed.yaml", "products:\n  - {sku: 007, price: 15, title: true}\n")
    assert (await shop.run("catalog", "import", fixed)).code == 0
    async with shop.uow() as uow:
        product = await uow.catalog.get_product("007")
    assert product is not None
    assert (product.price, product.title.en) == (Decimal("15.00"), "true")


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
