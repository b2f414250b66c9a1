"""Harness for running the real `shopbot` command as a subprocess against PostgreSQL.

Each run gets a clean environment (no shopbot setting inherited from the developer's
shell) and runs in a temporary directory, so no `.env` file is read.
"""

import asyncio
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.config import Settings
from shopbot.persistence.engine import create_session_factory
from shopbot.persistence.models import LedgerTransactionRow, StockItemRow
from shopbot.persistence.uow import UnitOfWorkFactory

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


def clean_env(database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment without shopbot settings; DATABASE_URL unset when None (`.env` or
    the default decides)."""
    setting_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in setting_names}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


async def shopbot(cwd: Path, database_url: str | None, *args: str, **env: str) -> Run:
    """Run `shopbot *args` with the settings `env` on a clean environment."""
    return await shopbot_fed(None, cwd, database_url, *args, **env)


async def shopbot_fed(
    stdin: bytes | None, cwd: Path, database_url: str | None, *args: str, **env: str
) -> Run:
    """`shopbot` with `stdin`, when given, written to its standard input. (Not a keyword of
    `shopbot`: a `**settings` dict passed there could then fill it.)"""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        *args,
        cwd=cwd,
        env=clean_env(database_url, **env),
        stdin=None if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout=120)
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


SECRETS = ("STEAM-7F3K9-QX2PL-AB1CD", "STEAM-2M8TR-ZK4WW-EF5GH", "STEAM-9PL3X-MN7QQ-IJ6KL")


def assert_no_secrets(run: Run, *secrets: str) -> None:
    for secret in secrets or SECRETS:
        assert secret not in run.output
