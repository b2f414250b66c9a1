"""The `shopbot` command: stock."""

import pytest

from tests.integration.cli.harness import (
    SECRETS,
    Shop,
    assert_no_secrets,
)

pytestmark = pytest.mark.postgres

# --- stock ------------------------------------------------------------------------------


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
