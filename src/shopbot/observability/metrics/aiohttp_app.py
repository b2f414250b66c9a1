"""HTTP metrics and the `/metrics` route for an aiohttp app (the bot's webhook app and the
polling bot's health server)."""

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from shopbot.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED
from shopbot.observability.metrics.exposition import CONTENT_TYPE, render

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def route_template(request: web.Request) -> str:
    """The matched resource's canonical template (`/webhook/telegram`); UNMATCHED for a
    path no route matched (aiohttp's resource is then None or a system route)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts `shopbot_http_requests_total` and observes its duration histogram for each
    request; an HTTPException counts with its status, any other exception as 500."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        method = request.method if request.method in METHODS else "other"
        template = route_template(request)
        HTTP_REQUESTS.labels(template, method, str(status)).inc()
        HTTP_DURATION.labels(template, method).observe(time.perf_counter() - started)


async def metrics_handler(_: web.Request) -> web.Response:
    """`GET /metrics`: the text exposition format, for Prometheus."""
    response = web.Response(body=render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


def add_metrics(app: web.Application) -> None:
    """`GET /metrics` on `app` and its HTTP metrics middleware (call before the app
    starts: aiohttp freezes middlewares then)."""
    app.middlewares.append(http_metrics)
    app.router.add_get("/metrics", metrics_handler)
