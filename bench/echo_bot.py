"""The baseline of bench/scaling.py: a minimal aiogram 3 echo bot in webhook mode, served
the way the shop's bot is (aiohttp, SimpleRequestHandler answering after the handler ran,
the secret token checked) and answering every message with sendMessage.

    TELEGRAM_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:8081 TELEGRAM_WEBHOOK_SECRET=... \
        python bench/echo_bot.py 8080

Serves POST /webhook/telegram and GET /health on 127.0.0.1:<port>.
"""

import os
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


async def echo(message: Message) -> None:
    await message.answer(message.text or "?")


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["TELEGRAM_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher,
        bot,
        handle_in_background=False,
        secret_token=os.environ["TELEGRAM_WEBHOOK_SECRET"],
    ).register(app, path="/webhook/telegram")
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
