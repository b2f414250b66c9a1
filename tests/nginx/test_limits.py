"""Body size and per-client rate limits, answered by nginx before any service sees them."""

import asyncio
import math
import time
from collections import Counter
from pathlib import Path

import aiohttp
import httpx

from tests.nginx.edge import running_edge
from tests.nginx.upstreams import Upstream

MIB = 1024 * 1024
# The zones of default.conf.template: (rate per second, burst).
TELEGRAM = (50, 200)
HELEKET = (10, 50)


async def burst(
    url: str, count: int, source: str = "127.0.0.1", headers: dict[str, str] | None = None
) -> tuple[Counter[int], float]:
    """`count` POSTs at once over 64 connections from `source` (aiohttp: httpx needs
    seconds for a few hundred); returns (how many got each status, seconds taken)."""
    connector = aiohttp.TCPConnector(limit=64, local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> int:
            async with session.post(url, data=b"{}", headers=headers) as answer:
                await answer.read()
                return answer.status

        started = time.monotonic()
        statuses = await asyncio.gather(*(post() for _ in range(count)))
        return Counter(statuses), time.monotonic() - started


def most_let_through(limit: tuple[int, int], seconds: float) -> int:
    """nginx's leaky bucket with `nodelay`: the burst at once, then the rate (plus the
    first request and one for rounding)."""
    rate, burst_size = limit
    return burst_size + 2 + math.ceil(rate * seconds)


async def test_a_body_over_one_mebibyte_is_refused_with_413(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {"NGINX_APP_SERVERS": app_a.address, "NGINX_WEBHOOK_SERVERS": webhook.address}
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        for path in ("/webhook/telegram", "/webhook/heleket"):
            assert (await client.post(path, content=b"x" * (MIB + 1))).status_code == 413
            assert (await client.post(path, content=b"x" * MIB)).status_code == 200
    assert [len(seen.body) for seen in app_a.seen + webhook.seen] == [MIB, MIB]


async def test_a_burst_over_the_limit_gets_429_and_reaches_nothing(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {"NGINX_APP_SERVERS": app_a.address, "NGINX_WEBHOOK_SERVERS": webhook.address}
    async with running_edge(tmp_path, variables) as edge:
        heleket, heleket_seconds = await burst(f"{edge.http}/webhook/heleket", 150)
        telegram, telegram_seconds = await burst(f"{edge.http}/webhook/telegram", 500)
    for codes, seconds, limit, seen in (
        (heleket, heleket_seconds, HELEKET, webhook.seen),
        (telegram, telegram_seconds, TELEGRAM, app_a.seen),
    ):
        assert set(codes) == {200, 429}, codes
        assert limit[1] <= codes[200] <= most_let_through(limit, seconds), (codes, seconds)
        assert len(seen) == codes[200]


async def test_the_limit_is_per_client_behind_a_trusted_proxy(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    """Behind Cloudflare every request comes from a few edge addresses: keyed on the peer,
    one busy customer would throttle them all."""
    variables = {
        "NGINX_APP_SERVERS": app_a.address,
        "NGINX_WEBHOOK_SERVERS": webhook.address,
        "NGINX_TRUSTED_PROXIES": "127.0.0.2",
    }
    async with running_edge(tmp_path, variables) as edge:
        url = f"{edge.http}/webhook/heleket"
        busy, _ = await burst(url, 100, "127.0.0.2", {"X-Forwarded-For": "203.0.113.1"})
        other, _ = await burst(url, 1, "127.0.0.2", {"X-Forwarded-For": "203.0.113.2"})
    assert busy[429] > 0
    assert other == {200: 1}
