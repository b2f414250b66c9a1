"""HTTP metrics for an ASGI app (the webhook service), as pure ASGI middleware."""

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopbot.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/webhook/heleket`), set in the scope by
    FastAPI's router as "route"; UNMATCHED when no route matched (a scanner's random
    paths must not become label values)."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    """Counts `shopbot_http_requests_total{handler, method, code}` and observes
    `shopbot_http_request_duration_seconds{handler, method}` for every HTTP request;
    a request that raises counts as 500. Methods outside RFC 9110's set count as
    "other"."""

    METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in self.METHODS else "other"
            handler = route_template(scope)
            HTTP_REQUESTS.labels(handler, method, str(status)).inc()
            HTTP_DURATION.labels(handler, method).observe(time.perf_counter() - started)
