import asyncio

import click

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.bot.runtime import run_polling, run_webhook
from shopbot.cli.preflight import preflight, warn
from shopbot.cli.runtime import load_settings
from shopbot.config import MissingSecret
from shopbot.observability.startup import log_startup

PORT = click.IntRange(1, 65535)


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
        gateway: HeleketClient | None = HeleketClient.from_settings(settings)
    except MissingSecret:
        gateway = None  # crypto top-ups are off (preflight warned); Stars still work
    if settings.bot_mode == "webhook":
        asyncio.run(run_webhook(settings, host, port, gateway))
    else:
        asyncio.run(run_polling(settings, gateway))
