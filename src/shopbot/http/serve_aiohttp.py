"""Serve an aiohttp app on a loopback port inside the current event loop (tests, demo)."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


@asynccontextmanager
async def serve_aiohttp(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    shutdown_timeout: float = 5.0,
    **runner_options: Any,
) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields its base URL (http://host:port).

    The socket is bound before serving (port 0: a free port, no race). On exit the app's
    on_shutdown hooks run, then in-flight requests get `shutdown_timeout` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, **runner_options)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock)
        await site.start()
        bound_port = sock.getsockname()[1]
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()
        sock.close()
