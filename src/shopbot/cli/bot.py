import asyncio
import logging
import sys

import click
from aiogram.exceptions import TelegramNetworkError

from shopbot.bot.runtime import run_polling, serve_webhook
from shopbot.cli.preflight import preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.composition.bot import bot_process
from shopbot.config import Settings
from shopbot.observability.startup import log_startup

log = logging.getLogger(__name__)
PORT = click.IntRange(1, 65535)


async def run_bot(settings: Settings, host: str, port: int) -> None:
    async with bot_process(settings) as process:
        if process.webhook_app is not None:
            await serve_webhook(process.webhook_app, host, port)
        else:
            await run_polling(process.bot, process.dispatcher)


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="webhook mode only")  # noqa: S104
@click.option("--port", default=8080, show_default=True, type=PORT, help="webhook mode only")
def bot(host: str, port: int) -> None:
    """Run the Telegram bot (BOT_MODE=polling or webhook); `shopbot config check --for bot`
    runs the same start-up checks."""
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
