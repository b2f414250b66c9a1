"""Building the bot process: Bot, Dispatcher, the handlers' context and, in webhook mode,
the aiohttp app Telegram posts updates to."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from shopbot.bot.broadcast_worker import BROADCAST_LEASE, POLL_SECONDS, BroadcastWorker
from shopbot.bot.context import BotContext
from shopbot.bot.coordination import Coordination, RedisCoordination
from shopbot.bot.factory import create_dispatcher
from shopbot.bot.runtime import webhook_app
from shopbot.composition.resources import (
    HeleketRetry,
    bot_context,
    open_bot,
    open_coordination,
    open_database,
    open_optional_heleket,
    open_reads,
)
from shopbot.config import Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.jobs.periodic import run_periodically
from shopbot.observability.health import ReadinessProbe
from shopbot.persistence.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class BotProcess:
    settings: Settings
    ctx: BotContext
    bot: Bot
    dispatcher: Dispatcher
    webhook_app: web.Application | None
    """The app serving Telegram's webhook (BOT_MODE=webhook); None in polling mode."""
    readiness: ReadinessProbe
    """Behind /health/ready: the webhook app's, or the polling bot's health server."""

    @property
    def uows(self) -> UnitOfWorkFactory:
        return self.ctx.uows


@asynccontextmanager
async def bot_process(
    settings: Settings,
    *,
    gateway: PaymentGateway | None = None,
    heleket_retry: HeleketRetry | None = None,
) -> AsyncIterator[BotProcess]:
    """The bot built from `settings`, with the broadcast worker running in the
    background (it sends only while this instance holds the broadcast lease); on exit the
    worker is cancelled and the resources close in reverse order: the Heleket client, the
    Bot's HTTP session, Redis, the replicas' and the database's engines. The read-only
    screens read through `ctx.reads` (DATABASE_REPLICA_URLS).

    `gateway`: used instead of a Heleket client built from the settings (which is left
    out when the Heleket keys are not set: Stars still work). `heleket_retry`: the built
    client's retry pace. Raises MissingSecret without TELEGRAM_TOKEN, and in webhook mode
    without TELEGRAM_WEBHOOK_SECRET or PUBLIC_BASE_URL. Nothing but the worker's lease
    attempts (every POLL_SECONDS) connects until used."""
    async with AsyncExitStack() as stack:
        database = open_database(stack, settings)
        reads = open_reads(stack, settings, database)
        coordination = open_coordination(stack, settings)
        bot = open_bot(stack, settings)
        if gateway is None:
            gateway = open_optional_heleket(stack, settings, heleket_retry)
        ctx = bot_context(settings, database.uows, coordination, gateway, reads)
        dispatcher = create_dispatcher(ctx)
        readiness = ReadinessProbe(database.engine, redis=redis_of(coordination))
        webhook = settings.bot_mode == "webhook"
        app = webhook_app(ctx, bot, dispatcher, readiness) if webhook else None
        worker = BroadcastWorker(bot, database.uows, rate=settings.broadcast_per_second)
        task = asyncio.create_task(
            run_periodically(
                database.engine, BROADCAST_LEASE, POLL_SECONDS, worker.drain, log_result=False
            )
        )
        stack.push_async_callback(_stop, task)
        yield BotProcess(settings, ctx, bot, dispatcher, app, readiness)


def redis_of(coordination: Coordination) -> Redis | RedisCluster | None:
    """The Redis client the bot coordinates through (readiness pings that very client);
    None with in-memory coordination."""
    return coordination.client if isinstance(coordination, RedisCoordination) else None


async def _stop(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
