"""Everything `shopbot demo` runs, in one process and one event loop, on free loopback
ports: the Telegram Bot API emulator, the Heleket emulator, the webhook service (with the
Telegram notifier) and the bot (webhook mode) on SQLite in a temporary directory with
in-memory coordination, each built by the same `shopbot.composition` builders as in
production. No network, no accounts."""

import asyncio
import secrets
import signal
import string
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiogram import Bot, Dispatcher

from shopbot.adapters.catalog_yaml import load_yaml
from shopbot.bot.context import BotContext
from shopbot.composition.bot import bot_process
from shopbot.composition.resources import HeleketRetry
from shopbot.composition.webhook import webhook_service
from shopbot.config import Settings
from shopbot.demo.updates import IDLE_TIMEOUT, UpdateTracker
from shopbot.domain.catalog.spec import CatalogSpec, parse_catalog
from shopbot.domain.catalog.use_cases import add_stock, import_catalog
from shopbot.domain.errors import InvalidInput
from shopbot.http.serve import free_port, serve
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.persistence.migrate import upgrade
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox import heleket as heleket_sandbox
from shopbot.sandbox.telegram import EMULATOR, Emulator, EmulatorConfig
from shopbot.sandbox.telegram import create_app as create_telegram_app

CATALOG = Path(__file__).with_name("catalog.yaml")
STOCK_FIELD = "demo_stock"
BOT_ID, BOT_USERNAME, BOT_NAME = 700000001, "shopbot_demo_bot", "Shop"
T = TypeVar("T")
FAST_RETRY = HeleketRetry(attempts=2, backoff_base=0.05)
"""The emulator answers at once: a failed call is retried soon, and given up soon."""


def _random_key(length: int = 64) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class DemoStack:
    emulator: Emulator
    bot: Bot
    dispatcher: Dispatcher
    ctx: BotContext
    settings: Settings
    heleket: httpx.AsyncClient
    """Client of the Heleket emulator (its /sandbox control API)."""
    urls: dict[str, str]
    """What runs where: name -> base URL."""
    stock: dict[str, list[str]]
    """The demo catalog's stock items by SKU."""
    updates: UpdateTracker = field(init=False)

    def __post_init__(self) -> None:
        self.updates = UpdateTracker(self.emulator, self.dispatcher)

    @property
    def uows(self) -> UnitOfWorkFactory:
        return self.ctx.uows

    async def idle(self, seconds: float = IDLE_TIMEOUT) -> None:
        await self.updates.idle(seconds)


def read_catalog(path: Path = CATALOG) -> tuple[CatalogSpec, dict[str, list[str]]]:
    """The catalog and the stock items by SKU; raises InvalidInput naming the problem if
    the file is not a valid catalog."""
    document = load_yaml(path)
    if not isinstance(document, dict):
        raise InvalidInput(f"{path}: a catalog file holds a mapping with 'categories'")
    stock = document.pop(STOCK_FIELD, None) or {}
    if not isinstance(stock, dict) or not all(isinstance(v, list) for v in stock.values()):
        raise InvalidInput(f"{path}: {STOCK_FIELD} maps each SKU to a list of items")
    spec = parse_catalog(document)
    skus = {product.sku for product in spec.products}
    if unknown := sorted(str(sku) for sku in stock if str(sku) not in skus):
        raise InvalidInput(f"{path}: {STOCK_FIELD} names SKUs not in the catalog: {unknown}")
    return spec, {str(sku): [str(item) for item in items] for sku, items in stock.items()}


async def load_catalog(
    uows: UnitOfWorkFactory, spec: CatalogSpec, stock: dict[str, list[str]]
) -> None:
    async with uows() as uow:
        await import_catalog(uow, spec)
        for sku, items in stock.items():
            await add_stock(uow, sku, "\n".join(items))
        await uow.commit()


async def uninterrupted(work: Awaitable[T]) -> T:
    """Awaits `work` to its end even if cancelled meanwhile (Ctrl-C), then goes on with the
    cancellation: a shutdown is not cut short, a migration thread not left running."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    result = task.result()
    if cancelled:
        raise asyncio.CancelledError
    return result


def take_back_signals() -> Any:
    """uvicorn's `Server.serve` installs its own SIGINT/SIGTERM handlers (they would only
    stop that one server); returns a function that gives the signals back to the handlers
    in place before: asyncio.run's for SIGINT (cancel the main task, so everything unwinds
    and the command exits 130), and the same for SIGTERM. A no-op outside the main thread."""
    try:
        before_int = signal.getsignal(signal.SIGINT)
        before_term = signal.getsignal(signal.SIGTERM)
    except ValueError:
        return lambda: None

    def restore() -> None:
        try:
            if before_int is not None:
                signal.signal(signal.SIGINT, before_int)
            term = before_int if callable(before_int) else before_term
            if term is not None:
                signal.signal(signal.SIGTERM, term)
        except ValueError:  # not the main thread
            pass

    return restore


@asynccontextmanager
async def demo_stack(
    workdir: Path,
    catalog: Path = CATALOG,
    admin_ids: tuple[int, ...] = (),
    return_url: str | None = None,
) -> AsyncIterator[DemoStack]:
    """Start everything; on exit (also on cancellation) stop it all in reverse order.
    A catalog that is not valid raises InvalidInput before anything starts.
    `return_url`: where the Heleket payment page links back to."""
    spec, stock = read_catalog(catalog)
    database_url = f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
    await uninterrupted(asyncio.to_thread(upgrade, database_url))

    token = f"{BOT_ID}:DEMO-{_random_key(30)}"
    merchant, payment_key, payout_key = str(uuid.uuid4()), _random_key(), _random_key()
    heleket_port, webhook_port, bot_port = free_port(), free_port(), free_port()
    heleket_url = f"http://127.0.0.1:{heleket_port}"
    webhook_url = f"http://127.0.0.1:{webhook_port}"
    bot_url = f"http://127.0.0.1:{bot_port}"

    telegram_app = create_telegram_app(
        EmulatorConfig(
            bots={token: (BOT_ID, BOT_USERNAME, BOT_NAME)},
            webhook_base_delay=0.1,
            webhook_max_delay=1.0,
        )
    )
    heleket_config = heleket_sandbox.EmulatorConfig(
        merchants={merchant: (payment_key, payout_key)},
        public_url=heleket_url,
        webhook_attempts=8,
        webhook_base_delay=0.1,
        webhook_max_delay=1.0,
    )
    restore_signals = take_back_signals()
    stack = AsyncExitStack()
    try:
        telegram_url = await stack.enter_async_context(serve_aiohttp(telegram_app))
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            redis_url=None,
            redis_cluster_nodes=[],
            telegram_token=token,
            telegram_api_url=telegram_url,
            telegram_webhook_secret=_random_key(32),
            bot_mode="webhook",
            public_base_url=bot_url,
            admin_ids=list(admin_ids),
            shop_currency="USD",
            heleket_merchant_id=merchant,
            heleket_api_key=payment_key,
            heleket_payout_key=payout_key,
            heleket_api_url=heleket_url,
            heleket_allowed_ips=["127.0.0.1"],
            heleket_webhook_url=f"{webhook_url}/webhook/heleket",
            heleket_return_url=return_url,
            trusted_proxies=[],
            reconcile_interval_seconds=0,
        )
        service = await stack.enter_async_context(
            webhook_service(settings, heleket_retry=FAST_RETRY)
        )
        await stack.enter_async_context(
            serve(heleket_sandbox.create_app(heleket_config), port=heleket_port)
        )
        restore_signals()
        await stack.enter_async_context(serve(service.app, port=webhook_port))
        restore_signals()
        heleket = await stack.enter_async_context(
            httpx.AsyncClient(base_url=heleket_url, timeout=30)
        )
        process = await stack.enter_async_context(bot_process(settings, gateway=service.gateway))
        await load_catalog(process.uows, spec, stock)
        demo = DemoStack(
            emulator=telegram_app[EMULATOR],
            bot=process.bot,
            dispatcher=process.dispatcher,
            ctx=process.ctx,
            settings=settings,
            heleket=heleket,
            urls={
                "Telegram Bot API emulator": telegram_url,
                "Heleket emulator": heleket_url,
                "webhook service": webhook_url,
                "bot (webhook mode)": bot_url,
            },
            stock=stock,
        )
        assert process.webhook_app is not None  # BOT_MODE=webhook above
        await stack.enter_async_context(serve_aiohttp(process.webhook_app, port=bot_port))
        yield demo
    finally:
        await uninterrupted(stack.aclose())
