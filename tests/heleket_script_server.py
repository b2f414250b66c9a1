"""A scripted stand-in for the Heleket API, served over real HTTP by `shopbot.http.serve`.

It records every request (method, path, query, headers, raw body bytes) and answers from
a per-test script of `Reply`s, one per request, then `default` once the script is used up.
"""

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

from shopbot.http.serve import serve

OK_EMPTY = {"state": 0, "result": []}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = field(default_factory=lambda: OK_EMPTY)
    raw: bytes | None = None
    """Sent as is instead of `json` (e.g. garbage, or JSON with bare numbers)."""
    delay: float = 0.0
    """Seconds to wait before answering (to outlast the client's timeout)."""


Script = Reply | Callable[[Recorded], Reply]


class ScriptedHeleket:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Script] = deque()
        self.default: Script = Reply()
        self.base_url = ""
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._handle, methods=["GET", "POST"])

    def then(self, *replies: Script) -> "ScriptedHeleket":
        self.script.extend(replies)
        return self

    async def _handle(self, request: Request) -> Response:
        recorded = Recorded(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.body(),
        )
        self.requests.append(recorded)
        step = self.script.popleft() if self.script else self.default
        reply = step(recorded) if callable(step) else step
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
        return Response(content, status_code=reply.status, media_type="application/json")


@asynccontextmanager
async def scripted_heleket() -> AsyncIterator[ScriptedHeleket]:
    server = ScriptedHeleket()
    async with serve(server.app) as base_url:
        server.base_url = base_url
        yield server
