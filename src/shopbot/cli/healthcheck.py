"""`shopbot healthcheck [URL]`: the image's Docker HEALTHCHECK.

Docker runs it every interval inside the container, so it starts fast: the standard
library and click only (no settings, no aiogram, no SQLAlchemy; tests/unit/test_lean_cli.py).
Exit codes follow Docker's HEALTHCHECK (Dockerfile reference): 0 healthy, 1 unhealthy;
2 is reserved by Docker, so every failure, a malformed URL included, is 1.
"""

import os
import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import click

DEFAULT_URL = "http://127.0.0.1:8080/health/ready"
"""The bot's readiness on its default --port; compose sets HEALTHCHECK_URL per service."""
TIMEOUT = 3.0
"""Seconds for connecting and for each read; the probe behind /health/ready answers
within 2 s (`shopbot.observability.health.CHECK_TIMEOUT`)."""
SHOWN_BYTES = 300
"""How much of the answer's body the line quotes (Docker keeps 4096 bytes of output)."""
HEALTHY, UNHEALTHY = 0, 1


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect (say, to https) is an answer, not the health endpoint: report it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def probe(url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """GET `url` (http or https; proxies from the environment ignored: the target is the
    container itself). Returns (answered 200, one line saying what answered)."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        return False, f"{url!r} is not an http:// or https:// URL"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
    try:
        with opener.open(url, timeout=timeout) as response:
            status, body = response.status, response.read(SHOWN_BYTES)
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx: it answered
        status, body = exc.code, exc.read(SHOWN_BYTES)
        exc.close()
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url}: no answer ({_reason(exc, timeout)})"
    text = " ".join(body.decode("utf-8", "replace").split())
    return status == 200, f"{url} answered {status}: {text}" if text else f"{url} answered {status}"


def _reason(exc: BaseException, timeout: float) -> str:
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return f"nothing within {timeout:g} s"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return "host not found"
    return f"{type(cause).__name__}: {cause}" if isinstance(cause, BaseException) else str(cause)


@click.command()
@click.argument("url", required=False)
def healthcheck(url: str | None) -> None:
    """Exit 0 when URL answers 200, else 1, printing one line saying what answered.

    URL defaults to $HEALTHCHECK_URL, else http://127.0.0.1:8080/health/ready (the bot).
    Waits at most 3 s for the connection and for each read; redirects are not followed.
    """
    target = url or os.environ.get("HEALTHCHECK_URL") or DEFAULT_URL
    healthy, line = probe(target)
    click.echo(line, err=not healthy)
    sys.exit(HEALTHY if healthy else UNHEALTHY)
