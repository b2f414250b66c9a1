"""Running a bot built by `shopbot.composition.bot`: polling (development) or webhook
mode behind nginx (several instances). Both serve `GET /health` (alive, no I/O) and
`GET /health/ready` (`shopbot.observability.health`) on the bot's --host/--port: the
webhook app beside `/webhook/telegram`, the polling bot on a small server of its own.

Webhook mode answers Telegram only after the update was handled (aiogram's
`handle_in_background=False`): a failure answers non-2xx and Telegram redelivers. An
update the shop's global rate limit deferred is answered 429 with Retry-After, one
another instance is handling 409 (not a 500: nothing failed; operators and the failure
drills tell them apart).
`setWebhook` at start-up never drops pending updates: they are real customers' taps.
"""

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.typedefs import Handler

from shopbot.bot.context import BotContext
from shopbot.bot.deferrals import quiet_deferrals
from shopbot.bot.middlewares.dedupe import UpdateInProgress
from shopbot.bot.middlewares.rate_limit import GlobalLimitReached
from shopbot.config import require_secrets
from shopbot.http.stop_signals import on_stop_signal
from shopbot.observability.health import ReadinessProbe
from shopbot.observability.metrics import set_build_info
from shopbot.observability.metrics.aiohttp_app import add_metrics

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/telegram"


def webhook_app(
    ctx: BotContext, bot: Bot, dispatcher: Dispatcher, readiness: ReadinessProbe
) -> web.Application:
    """Telegram's webhook at WEBHOOK_PATH plus /health and /health/ready; on start-up it
    calls setWebhook. MissingSecret without TELEGRAM_WEBHOOK_SECRET or PUBLIC_BASE_URL."""
    require_secrets(ctx.settings, "telegram_webhook_secret", "public_base_url")
    secret = ctx.settings.telegram_webhook_secret
    assert secret is not None
    quiet_deferrals()
    app = web.Application(middlewares=[answer_deferred_updates])
    SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token=secret.get_secret_value()
    ).register(app, path=WEBHOOK_PATH)
    add_health_routes(app, readiness)

    async def on_startup(_: web.Application) -> None:
        await bot.set_webhook(
            f"{str(ctx.settings.public_base_url).rstrip('/')}{WEBHOOK_PATH}",
            secret_token=secret.get_secret_value(),
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )

    app.on_startup.append(on_startup)
    return app


@web.middleware
async def answer_deferred_updates(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A deferred update (bot/deferrals.py) is answered with a status that says why,
    not a failure's 500: 429 with Retry-After when the global rate limit put it off
    (`GlobalLimitReached`), 409 while another instance is handling it
    (`UpdateInProgress`). Telegram delivers it again later, like after any non-2xx."""
    try:
        return await handler(request)
    except GlobalLimitReached as deferred:
        log.info("update deferred by the global rate limit (%s)", deferred)
        return web.json_response(
            {"status": "deferred", "reason": "global rate limit"},
            status=429,
            headers={"Retry-After": str(deferred.retry_after_seconds)},
        )
    except UpdateInProgress as busy:
        log.info("update %s is being handled by another instance; deferred", busy)
        return web.json_response(
            {"status": "deferred", "reason": "handled by another instance"}, status=409
        )


def add_health_routes(app: web.Application, readiness: ReadinessProbe) -> None:
    """`GET /health`: 200 `{"status": "ok"}` while the process serves HTTP (no I/O).
    `GET /health/ready`: 200 or 503 with the checks by name (`Readiness.body`).
    `GET /metrics`: Prometheus's text format (docs/metrics.md), and every request of
    the app counted by route template."""

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        result = await readiness.check()
        return web.json_response(result.body(), status=result.status_code)

    app.router.add_get("/health", health)
    app.router.add_get("/health/ready", ready)
    add_metrics(app)
    set_build_info()


def health_app(readiness: ReadinessProbe) -> web.Application:
    """The polling bot's HTTP server: the health routes and /metrics."""
    app = web.Application()
    add_health_routes(app, readiness)
    return app


async def run_polling(
    bot: Bot, dispatcher: Dispatcher, health: web.Application, host: str, port: int
) -> None:
    """Serve `health` on host:port and poll Telegram until SIGINT/SIGTERM (aiogram stops
    polling on them) or cancellation; the webhook is removed first, pending updates kept.
    The health server closes before returning; CannotListen when host:port is taken."""
    # Docker's health checks poll every few seconds: no access line for each.
    runner = web.AppRunner(health, access_log=None)
    await runner.setup()
    try:
        await listen(runner, host, port)
        log.info("bot health server listening on %s:%s", host, port)
        await bot.delete_webhook(drop_pending_updates=False)
        await dispatcher.start_polling(bot, handle_as_tasks=False, close_bot_session=False)
    finally:
        await runner.cleanup()


async def serve_webhook(app: web.Application, host: str, port: int) -> None:
    """Serve the webhook app on host:port until SIGINT/SIGTERM (or cancellation); then
    return, so the caller's exit stack closes the process's resources. CannotListen when
    host:port is taken."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await listen(runner, host, port)
        log.info("bot webhook listening on %s:%s", host, port)
        stopped = asyncio.Event()
        with on_stop_signal(stopped.set):
            await stopped.wait()
    finally:
        await runner.cleanup()


class CannotListen(Exception):
    """The bot cannot serve on its --host/--port; `str()` is the one line to show."""


async def listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Start serving `runner` on host:port; CannotListen (address in use, not this
    machine's, a privileged port) instead of the socket's OSError."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
