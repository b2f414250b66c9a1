"""Every log line of a webhook request carries its `request_id`, returned to the caller.

The id comes from a sane `X-Request-ID` header (nginx or the caller set it) or is made
here; it is bound through `structlog.contextvars` for the request's work and sent back
as `X-Request-ID`. A plain ASGI middleware, so the binding covers uvicorn's access line.
"""

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bound_contextvars

HEADER = "X-Request-ID"
# Printable and short: a header value lands in every log line of the request.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(given: str | None) -> str:
    """`given` when it is 1-128 characters of A-Z a-z 0-9 . _ : -; else a new uuid4 hex."""
    if given is not None and SANE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode("latin-1"))
        rid = request_id(None if given is None else given.decode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with bound_contextvars(request_id=rid):
            await self.app(scope, receive, send_with_id)
