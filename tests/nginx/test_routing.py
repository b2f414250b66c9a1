"""What nginx lets through, to where, and with which headers."""

import json
from pathlib import Path

import httpx
import pytest

from tests.nginx.edge import DOMAIN, raw_request, running_edge
from tests.nginx.upstreams import Upstream

UPDATE = b'{"update_id": 1, "message": {"message_id": 1, "text": "/start"}}'
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def servers(app: Upstream, webhook: Upstream) -> dict[str, str]:
    return {"NGINX_APP_SERVERS": app.address, "NGINX_WEBHOOK_SERVERS": webhook.address}


async def test_each_webhook_reaches_its_own_service(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        telegram = await client.post(
            "/webhook/telegram",
            content=UPDATE,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
        )
        heleket = await client.post("/webhook/heleket", content=b'{"uuid": "u1"}')
    assert telegram.status_code == 200
    assert telegram.json() == {"instance": "app-a"}
    assert heleket.status_code == 200
    assert heleket.json() == {"instance": "webhook"}
    (update,) = app_a.seen
    assert (update.method, update.path, update.body) == ("POST", "/webhook/telegram", UPDATE)
    assert update.headers["x-telegram-bot-api-secret-token"] == "s3cret-token"
    assert update.headers["host"] == "127.0.0.1"  # $host: the name, without the port
    assert update.headers["x-forwarded-proto"] == "http"
    assert len(update.headers["x-request-id"]) == 32
    (callback,) = webhook.seen
    assert (callback.path, callback.body) == ("/webhook/heleket", b'{"uuid": "u1"}')


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/metrics",
        "/health",
        "/health/ready",
        "/docs",
        "/openapi.json",
        "/webhook",
        "/webhook/telegram/",
        "/webhook/telegramx",
        "/webhook/heleket/extra",
        "/nginx_status",
    ],
)
async def test_every_other_path_is_404_and_reaches_nothing(
    tmp_path: Path, app_a: Upstream, webhook: Upstream, path: str
) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        for method in ("GET", "POST"):
            answer = await client.request(method, path, content=b"{}")
            assert answer.status_code == 404, (method, path)
    assert app_a.seen == []
    assert webhook.seen == []


async def test_only_post_is_let_through(tmp_path: Path, app_a: Upstream, webhook: Upstream) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        for path in ("/webhook/telegram", "/webhook/heleket"):
            for method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"):
                answer = await client.request(method, path)
                assert answer.status_code == 403, (method, path)
    assert app_a.seen == []
    assert webhook.seen == []


async def test_upstream_sees_the_canonical_path_whatever_the_client_wrote(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    async with running_edge(tmp_path, servers(app_a, webhook)) as edge:
        for spelling in ("/webhook/x/../telegram", "//webhook//telegram", "/webhook/%74elegram"):
            answer = await raw_request(
                edge.http_port,
                f"POST {spelling}?a=1 HTTP/1.1\r\nHost: {DOMAIN}\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\n{}".encode(),
            )
            assert answer.startswith(b"HTTP/1.1 200 "), (spelling, answer[:200])
    assert [seen.path for seen in app_a.seen] == ["/webhook/telegram?a=1"] * 3


async def test_security_headers_on_every_answer_and_no_version(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        answers = [
            await client.post("/webhook/telegram", content=UPDATE),
            await client.get("/metrics"),
            await client.get("/webhook/heleket"),
        ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.status_code, name)
        assert answer.headers["server"] == "nginx"  # server_tokens off: no version
        # HSTS only over HTTPS (RFC 6797 §7.2); tests/nginx/test_tls.py checks that side.
        assert "strict-transport-security" not in answer.headers


async def test_access_log_is_json_without_query_strings(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.http) as client,
    ):
        await client.post("/webhook/telegram?token=leak-me", content=UPDATE)
        await client.get("/metrics")
    log_lines = edge.access_log  # read once nginx has stopped: every line is written
    entries = [json.loads(line) for line in log_lines]
    assert [(e["method"], e["uri"], e["status"]) for e in entries] == [
        ("POST", "/webhook/telegram", 200),
        ("GET", "/metrics", 404),
    ]
    assert entries[0]["upstream"] == app_a.address
    assert entries[0]["client"] == "127.0.0.1"
    assert not any("leak-me" in line for line in log_lines)
