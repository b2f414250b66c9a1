"""Upstream health: a dead bot instance is skipped (max_fails) and its requests, POSTs
included, are served by another; with none left nginx answers 502 at once."""

import time
from pathlib import Path

import httpx

from shopbot.http.serve import free_port
from tests.nginx.edge import running_edge
from tests.nginx.upstreams import Upstream, recording

MAX_FAILS = 2  # default.conf.template: server ... max_fails=2 fail_timeout=10s


async def test_a_dead_instance_is_tried_max_fails_times_then_skipped(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens: connection refused
    variables = {
        "NGINX_APP_SERVERS": f"{dead} {app_a.address}",
        "NGINX_WEBHOOK_SERVERS": webhook.address,
    }
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        for update_id in range(20):
            answer = await client.post("/webhook/telegram", json={"update_id": update_id})
            assert answer.status_code == 200
            assert answer.json() == {"instance": "app-a"}
        errors = edge.error_log
    assert len(app_a.seen) == 20
    refused = [line for line in errors.splitlines() if "Connection refused" in line]
    assert len(refused) == MAX_FAILS, refused
    assert all(dead in line for line in refused)
    assert "upstream server temporarily disabled while connecting to upstream" in errors


async def test_an_instance_that_stops_loses_no_request(
    tmp_path: Path, app_b: Upstream, webhook: Upstream
) -> None:
    port_a = free_port()
    variables = {
        "NGINX_APP_SERVERS": f"127.0.0.1:{port_a} {app_b.address}",
        "NGINX_WEBHOOK_SERVERS": webhook.address,
    }
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        async with recording("app-a", port_a) as app_a:
            for update_id in range(10):
                answer = await client.post("/webhook/telegram", json={"update_id": update_id})
                assert answer.status_code == 200
        # app-a is gone, and with it nginx's idle keep-alive connections to it.
        served_by = []
        for update_id in range(10, 30):
            answer = await client.post("/webhook/telegram", json={"update_id": update_id})
            assert answer.status_code == 200
            served_by.append(answer.json()["instance"])
    assert len(app_a.seen) > 0
    assert len(app_b.seen) > 0  # both served before app-a stopped
    assert served_by == ["app-b"] * 20
    assert len(app_a.seen) + len(app_b.seen) == 30  # nothing delivered twice


async def test_no_live_instance_is_502_at_once(tmp_path: Path) -> None:
    variables = {
        "NGINX_APP_SERVERS": f"127.0.0.1:{free_port()} 127.0.0.1:{free_port()}",
        "NGINX_WEBHOOK_SERVERS": f"127.0.0.1:{free_port()}",
    }
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        started = time.monotonic()
        for path in ("/webhook/telegram", "/webhook/heleket"):
            assert (await client.post(path, json={})).status_code == 502
        assert time.monotonic() - started < 2
