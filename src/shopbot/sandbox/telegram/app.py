"""The emulator's aiohttp app: `create_app(EmulatorConfig(...))`.

Routes: `{base}/bot{token}/{method}` (GET or POST; form-encoded, multipart or JSON),
`{base}/file/bot{token}/{file_path}` (downloads) and the control API under `/sandbox`.
The `Emulator` is `app["emulator"]` (also `app[EMULATOR]`, the typed key).
"""

import json
import re
import time
import warnings
from typing import Any

from aiohttp import web

from shopbot.sandbox.telegram import control
from shopbot.sandbox.telegram.config import EmulatorConfig
from shopbot.sandbox.telegram.emulator import Emulator
from shopbot.sandbox.telegram.methods import Params, Upload, execute

EMULATOR = web.AppKey("telegram_emulator", Emulator)
TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


async def read_params(request: web.Request) -> Params:
    """Query string plus the body (form-encoded, multipart with files, or JSON)."""
    fields: dict[str, str] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                data: Any = await request.json()
            except ValueError:
                data = {}
            for key, value in (data if isinstance(data, dict) else {}).items():
                fields[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    files[key] = Upload(value.filename, content, value.content_type)
                elif isinstance(value, str):
                    fields[key] = value
                else:
                    fields[key] = bytes(value).decode("utf-8", "replace")

    def alive() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()

    return Params(fields, files, alive)


async def bot_api(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR]
    token = request.match_info["token"]
    bot = emulator.bots.get(token)
    if bot is None:
        if TOKEN.fullmatch(token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return web.json_response(NOT_FOUND, status=404)
    params = await read_params(request)
    status, body = await execute(emulator, bot, request.match_info["method"], params)
    return web.json_response(body, status=status)


async def download(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR]
    bot = emulator.bots.get(request.match_info["token"])
    stored = None if bot is None else emulator.file_by_path(request.match_info["path"])
    if bot is not None:
        bot.last_activity = time.monotonic()  # a download is bot activity (wait_idle)
    if stored is None:
        return web.json_response(NOT_FOUND, status=404)
    return web.Response(body=stored.content, content_type=stored.mime_type)


def create_app(config: EmulatorConfig) -> web.Application:
    """The Bot API, file downloads and the /sandbox control API of one emulator."""
    emulator = Emulator(config)
    app = web.Application(client_max_size=config.max_upload_size)
    app[EMULATOR] = emulator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["emulator"] = emulator
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", download)
    control.setup(app, emulator)

    async def on_startup(_: web.Application) -> None:
        await emulator.start()

    async def on_shutdown(_: web.Application) -> None:
        await emulator.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app
