"""Running the bot: polling (development) or webhook mode behind nginx (several instances).

Webhook mode answers Telegram only after the update was handled (aiogram's
`handle_in_background=False`): a failure answers non-2xx and Telegram redelivers.
`setWebhook` at start-up never drops pending updates: they are real customers' taps.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from shopbot.bot.context import BotContext
from shopbot.bot.coordination import MemoryCoordination, RedisCoordination, redis_client
from shopbot.bot.factory import create_bot, create_dispatcher
from shopbot.config import Settings, require_secrets
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/telegram"


@asynccontextmanager
async def bot_context(
    settings: Settings, gateway: PaymentGateway | None = None
) -> AsyncIterator[BotContext]:
    engine = create_engine(settings.database_url)
    client = redis_client(settings.redis_url, settings.redis_cluster_nodes)
    coordination = RedisCoordination(client) if client is not None else MemoryCoordination()
    try:
        yield BotContext(
            settings=settings,
            uows=UnitOfWorkFactory(create_session_factory(engine)),
            coordination=coordination,
            gateway=gateway,
            admin_ids=frozenset(settings.admin_ids),
        )
    finally:
        await coordination.close()
        await engine.dispose()


def webhook_app(ctx: BotContext, bot: Bot, dispatcher: Dispatcher) -> web.Application:
    require_secrets(ctx.settings, "telegram_webhook_secret", "public_base_url")
    secret = ctx.settings.telegram_webhook_secret
    assert secret is not None
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token=secret.get_secret_value()
    ).register(app, path=WEBHOOK_PATH)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        engine = ctx.uows  # readiness: the database answers
        try:
            async with asyncio.timeout(2), engine() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database means "not ready"
            return web.json_response({"status": "unavailable"}, status=503)
        return web.json_response({"status": "ok"})

    async def on_startup(_: web.Application) -> None:
        await bot.set_webhook(
            f"{str(ctx.settings.public_base_url).rstrip('/')}{WEBHOOK_PATH}",
            secret_token=secret.get_secret_value(),
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )

    app.router.add_get("/health", health)
    app.router.add_get("/health/ready", ready)
    app.on_startup.append(on_startup)
    return app


async def run_polling(settings: Settings, gateway: PaymentGateway | None = None) -> None:
    bot = create_bot(settings)
    async with bot_context(settings, gateway) as ctx:
        dispatcher = create_dispatcher(ctx)
        await bot.delete_webhook(drop_pending_updates=False)
        await dispatcher.start_polling(bot, handle_as_tasks=False)


async def run_webhook(
    settings: Settings, host: str, port: int, gateway: PaymentGateway | None = None
) -> None:
    bot = create_bot(settings)
    async with bot_context(settings, gateway) as ctx:
        app = webhook_app(ctx, bot, create_dispatcher(ctx))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("bot webhook listening on %s:%s", host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await bot.session.close()
