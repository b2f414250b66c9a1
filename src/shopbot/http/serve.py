"""Run an ASGI app with uvicorn inside the current event loop (demo, tests, benchmarks)."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serve(
    app: Any, *, host: str = "127.0.0.1", port: int | None = None, **options: Any
) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields its base URL (http://host:port)."""
    port = port or free_port(host)
    # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from loopback
    # peers; the services judge forwarded headers themselves (TRUSTED_PROXIES).
    options.setdefault("proxy_headers", False)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=None, lifespan="on", **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise the start-up failure
                raise RuntimeError(f"server on {host}:{port} stopped during start-up")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
