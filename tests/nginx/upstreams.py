"""Tiny real HTTP servers standing where the bot instances and the webhook service stand
behind nginx: each answers 200 with its name and records what it was sent."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from shopbot.http.serve_aiohttp import serve_aiohttp


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # as sent on the request line, query included
    headers: dict[str, str]  # names lower-cased
    peer: str | None
    body: bytes


@dataclass
class Upstream:
    name: str
    address: str = ""  # host:port, set once serving
    seen: list[Seen] = field(default_factory=list)

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.seen.append(Seen(request.method, request.raw_path, headers, request.remote, body))
        return web.json_response({"instance": self.name})


@asynccontextmanager
async def recording(name: str, port: int = 0) -> AsyncIterator[Upstream]:
    """An Upstream serving on 127.0.0.1:port (0: a free one) until the block exits."""
    upstream = Upstream(name)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", upstream._answer)
    async with serve_aiohttp(app, port=port, shutdown_timeout=1.0) as url:
        upstream.address = url.removeprefix("http://")
        yield upstream
