"""Running a bot built by `shopbot.composition.bot`: polling (development) or webhook
mode behind nginx (several instances).

Webhook mode answers Telegram only after the update was handled (aiogram's
`handle_in_background=False`): a failure answers non-2xx and Telegram redelivers.
`setWebhook` at start-up never drops pending updates: they are real customers' taps.
"""

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from shopbot.bot.context import BotContext
from shopbot.config import require_secrets
from shopbot.http.stop_signals import on_stop_signal

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/telegram"


def webhook_app(ctx: BotContext, bot: Bot, dispatcher: Dispatcher) -> web.Application:
    """Telegram's webhook at WEBHOOK_PATH plus /health and /health/ready; on start-up it
    calls setWebhook. MissingSecret without TELEGRAM_WEBHOOK_SECRET or PUBLIC_BASE_URL."""
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


async def run_polling(bot: Bot, dispatcher: Dispatcher) -> None:
    """Poll Telegram until cancelled; the webhook is removed first, pending updates kept."""
    await bot.delete_webhook(drop_pending_updates=False)
    await dispatcher.start_polling(bot, handle_as_tasks=False, close_bot_session=False)


async def serve_webhook(app: web.Application, host: str, port: int) -> None:
    """Serve the webhook app on host:port until SIGINT/SIGTERM (or cancellation); then
    return, so the caller's exit stack closes the process's resources."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("bot webhook listening on %s:%s", host, port)
        stopped = asyncio.Event()
        with on_stop_signal(stopped.set):
            await stopped.wait()
    finally:
        await runner.cleanup()
