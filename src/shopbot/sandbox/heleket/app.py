"""The emulator's ASGI app: `create_app(EmulatorConfig(...))`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shopbot.sandbox.heleket import api, control, page
from shopbot.sandbox.heleket.config import EmulatorConfig
from shopbot.sandbox.heleket.emulator import Emulator


def create_app(config: EmulatorConfig) -> FastAPI:
    """The API (/v1), the hosted page (/pay/{uuid}) and the control API (/sandbox).

    The `Emulator` is at `app.state.emulator` for in-process tests
    (e.g. `await app.state.emulator.webhooks.wait_idle(5)`).
    """
    if not config.merchants:
        raise ValueError("the emulator needs at least one merchant")
    emulator = Emulator(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await emulator.start()
        try:
            yield
        finally:
            await emulator.stop()

    app = FastAPI(
        title="Heleket emulator",
        lifespan=lifespan,
        docs_url="/sandbox/docs",
        redoc_url=None,
        openapi_url="/sandbox/openapi.json",
    )
    app.state.emulator = emulator
    app.include_router(api.build_router(emulator))
    app.include_router(control.build_router(emulator))
    app.include_router(page.build_router(emulator))
    return app
