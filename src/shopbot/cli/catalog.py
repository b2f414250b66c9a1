import asyncio
from pathlib import Path

import click

from shopbot.adapters.catalog_yaml import load_yaml, read_operator_file
from shopbot.cli.runtime import database, load_settings, run_async
from shopbot.domain.catalog.spec import parse_catalog
from shopbot.domain.catalog.use_cases import add_stock, import_catalog

readable_file = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group()
def catalog() -> None:
    """Categories and products."""


@catalog.command("import")
@click.argument("file", type=readable_file)
@run_async
async def import_(file: Path) -> None:
    """Create or update categories and products from a YAML FILE (matched by slug and SKU)."""
    spec = parse_catalog(load_yaml(file))
    async with database(load_settings()) as uow_factory, uow_factory() as uow:
        summary = await import_catalog(uow, spec)
        await uow.commit()
    click.echo(f"imported {summary.categories} categories and {summary.products} products")


@catalog.command("list")
@run_async
async def list_() -> None:
    """List every product with its price and stock."""
    settings = load_settings()
    async with database(settings) as uow_factory, uow_factory() as uow:
        for product in await uow.catalog.list_products(active_only=False):
            left = await uow.stock.available(product.id) if product.kind == "stock" else "-"
            state = "active" if product.is_active else "inactive"
            click.echo(
                f"{product.sku:<24} {product.kind:<10} {product.price:>10} {settings.shop_currency}"
                f"  stock={left:<6} {state:<8} {product.title.en}"
            )


@click.group()
def stock() -> None:
    """Secret items of stock products."""


@stock.command("add")
@click.argument("sku")
@click.argument("file", type=readable_file)
@run_async
async def add(sku: str, file: Path) -> None:
    """Add items from FILE (one per line) to product SKU; duplicates are refused."""
    text = await asyncio.to_thread(read_operator_file, file)
    async with database(load_settings()) as uow_factory, uow_factory() as uow:
        upload = await add_stock(uow, sku, text)
        await uow.commit()
    click.echo(f"added {upload.added} items to {sku}; {upload.available} available")
