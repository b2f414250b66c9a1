"""nginx's internal status server: stub_status and /healthz on NGINX_STATUS_LISTEN, for
the Compose networks only (NGINX_STATUS_ALLOW), never on the public port."""

from pathlib import Path

import httpx

from tests.nginx.edge import running_edge
from tests.nginx.upstreams import Upstream


def servers(app: Upstream, webhook: Upstream, **more: str) -> dict[str, str]:
    return {"NGINX_APP_SERVERS": app.address, "NGINX_WEBHOOK_SERVERS": webhook.address, **more}


async def test_status_and_health_are_served_inside(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.status) as inside,
        httpx.AsyncClient(base_url=edge.http) as outside,
    ):
        status = await inside.get("/nginx_status")
        health = await inside.get("/healthz")
        unknown = await inside.get("/metrics")
        public = await outside.get("/nginx_status")
    assert status.status_code == 200
    assert status.text.startswith("Active connections: ")
    assert "server accepts handled requests" in status.text
    assert (health.status_code, health.text) == (200, "ok\n")
    assert unknown.status_code == 404
    assert public.status_code == 404


async def test_status_refuses_addresses_outside_the_allowed_ranges(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    """And realip does not apply there: a trusted proxy cannot claim an allowed address."""
    variables = servers(
        app_a, webhook, NGINX_STATUS_ALLOW="127.0.0.1/32", NGINX_TRUSTED_PROXIES="127.0.0.2"
    )
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.status) as allowed,
        httpx.AsyncClient(base_url=edge.status, transport=other) as refused,
    ):
        assert (await allowed.get("/healthz")).status_code == 200
        for headers in ({}, {"X-Forwarded-For": "127.0.0.1"}):
            answer = await refused.get("/nginx_status", headers=headers)
            assert answer.status_code == 403
