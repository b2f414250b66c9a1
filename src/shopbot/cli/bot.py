import asyncio
import logging
import sys

import click
from aiogram.exceptions import TelegramNetworkError

from shopbot.bot.runtime import CannotListen, health_app, run_polling, serve_webhook
from shopbot.cli.preflight import preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.composition.bot import bot_process
from shopbot.composition.gc_tuning import freeze_startup_objects
from shopbot.config import Settings
from shopbot.observability.startup import log_startup

log = logging.getLogger(__name__)
PORT = click.IntRange(1, 65535)


async def run_bot(settings: Settings, host: str, port: int) -> None:
    async with bot_process(settings) as process:
        freeze_startup_objects()
        if process.webhook_app is not None:
            await serve_webhook(process.webhook_app, host, port)
        else:
            health = health_app(process.readiness)
            await run_polling(process.bot, process.dispatcher, health, host, port)


@click.command()
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - a container's port is reached from outside it
    show_default=True,
    help="where /health and /health/ready (and in webhook mode /webhook/telegram) listen",
)
@click.option("--port", default=8080, show_default=True, type=PORT, help="see --host")
def bot(host: str, port: int) -> None:
    """Run the Telegram bot (BOT_MODE=polling or webhook); `shopbot config check --for bot`
    runs the same start-up checks. Both modes serve /health and /health/ready on
    --host/--port; SIGTERM or SIGINT stops it cleanly (exit 0)."""
    settings = load_settings()
    warn(asyncio.run(preflight(settings, "bot")))
    log_startup(settings, "bot", host=host, port=port)
    try:
        asyncio.run(run_bot(settings, host, port))
    except TelegramNetworkError as exc:
        # At start-up (deleteWebhook / setWebhook): one line, not a chained traceback; the
        # container's restart policy tries again. Later outages are retried by aiogram.
        log.error("cannot reach the Telegram Bot API at %s: %s", settings.telegram_api_url, exc)
        sys.exit(1)
    except CannotListen as exc:  # another process holds the port: one line, no traceback
        log.error("%s", exc)
        sys.exit(1)
