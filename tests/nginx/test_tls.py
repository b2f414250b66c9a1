"""TLS from mounted certificate files, HSTS, and the HTTP→HTTPS redirect switch."""

import asyncio
import ssl
from pathlib import Path

import httpx

from tests.nginx.conftest import make_certificate
from tests.nginx.edge import DOMAIN, listening_ports, running_edge
from tests.nginx.upstreams import Upstream

# tls.inc.template's ssl_ciphers: every TLS 1.2 suite it allows is ECDHE with an AEAD.
TLS12_CIPHERS = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
}


def servers(app: Upstream, webhook: Upstream, **more: str) -> dict[str, str]:
    return {"NGINX_APP_SERVERS": app.address, "NGINX_WEBHOOK_SERVERS": webhook.address, **more}


def trust(certificate: Path) -> ssl.SSLContext:
    """A client context that trusts only the test's self-signed certificate."""
    return ssl.create_default_context(cafile=certificate)


async def handshake(
    port: int, context: ssl.SSLContext
) -> tuple[str | None, str | None, str | None]:
    """(protocol, cipher, ALPN protocol) nginx agrees to with a client offering what
    `context` offers."""
    _, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=DOMAIN
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        cipher = ssl_object.cipher()
        return (
            ssl_object.version(),
            cipher[0] if cipher else None,
            ssl_object.selected_alpn_protocol(),
        )
    finally:
        # abort, not close: after an h2 handshake nginx has already sent its SETTINGS.
        writer.transport.abort()


async def test_tls_with_mounted_certificates(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    certificate = make_certificate(tmp_path / "certs")
    async with (
        running_edge(tmp_path, servers(app_a, webhook)) as edge,
        httpx.AsyncClient(base_url=edge.https, verify=trust(certificate)) as secure,
        httpx.AsyncClient(base_url=edge.http) as plain,
    ):
        over_tls = await secure.post("/webhook/telegram", json={"update_id": 1})
        over_http = await plain.post("/webhook/telegram", json={"update_id": 2})
        assert (await secure.get("/metrics")).status_code == 404
        modern_client = trust(certificate)
        modern_client.set_alpn_protocols(["h2", "http/1.1"])
        modern = await handshake(edge.https_port, modern_client)
        # A TLS 1.2 client offering everything still gets a forward-secret AEAD suite.
        legacy = trust(certificate)
        legacy.maximum_version = ssl.TLSVersion.TLSv1_2
        legacy.set_ciphers("ALL:@SECLEVEL=0")
        protocol, cipher, _ = await handshake(edge.https_port, legacy)
        listened = listening_ports(edge.pid)
    assert {edge.http_port, edge.https_port, edge.status_port} <= listened
    assert over_tls.status_code == 200
    assert over_tls.headers["strict-transport-security"] == "max-age=63072000"
    assert over_http.status_code == 200  # ENABLE_HTTPS_REDIRECT unset: plain HTTP served
    assert "strict-transport-security" not in over_http.headers
    assert modern == ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "h2")
    assert protocol == "TLSv1.2"
    assert cipher in TLS12_CIPHERS
    assert [seen.headers["x-forwarded-proto"] for seen in app_a.seen] == ["https", "http"]


async def test_redirect_on_sends_plain_http_to_https(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    certificate = make_certificate(tmp_path / "certs")
    variables = servers(app_a, webhook, ENABLE_HTTPS_REDIRECT="true")
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as plain,
        httpx.AsyncClient(base_url=edge.https, verify=trust(certificate)) as secure,
    ):
        redirected = [
            await plain.post("/webhook/telegram?a=1", json={}),
            await plain.get("/metrics"),
        ]
        served = await secure.post("/webhook/heleket", json={})
    assert [(answer.status_code, answer.headers["location"]) for answer in redirected] == [
        (308, f"https://{DOMAIN}/webhook/telegram?a=1"),
        (308, f"https://{DOMAIN}/metrics"),
    ]
    assert served.status_code == 200
    assert app_a.seen == []
    assert len(webhook.seen) == 1


async def test_redirect_on_without_certificates_trusts_the_proxy_that_ended_tls(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    """Cloudflare (or its tunnel) ends TLS and forwards plain HTTP with X-Forwarded-Proto:
    no redirect loop for it, a redirect for anyone else claiming the same."""
    variables = servers(
        app_a, webhook, ENABLE_HTTPS_REDIRECT="true", NGINX_TRUSTED_PROXIES="127.0.0.2"
    )
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    proxy = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http, transport=proxy) as via_proxy,
        httpx.AsyncClient(base_url=edge.http) as direct,
    ):
        through_proxy = await via_proxy.post("/webhook/heleket", json={}, headers=forwarded)
        plain_from_proxy = await via_proxy.post("/webhook/heleket", json={})
        claimed = await direct.post("/webhook/heleket", json={}, headers=forwarded)
        listened = listening_ports(edge.pid)
    assert through_proxy.status_code == 200
    assert through_proxy.headers["strict-transport-security"] == "max-age=63072000"
    assert plain_from_proxy.status_code == 308
    assert claimed.status_code == 308
    assert edge.http_port in listened
    assert edge.https_port not in listened  # no certificate mounted: no TLS listener
    (seen,) = webhook.seen
    assert seen.headers["x-forwarded-proto"] == "https"
    assert seen.headers["x-forwarded-for"] == "203.0.113.5"


async def test_redirect_off_without_certificates_is_plain_http_staging(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = servers(app_a, webhook, ENABLE_HTTPS_REDIRECT="false")
    async with (
        running_edge(tmp_path, variables) as edge,
        httpx.AsyncClient(base_url=edge.http) as plain,
    ):
        answer = await plain.post(
            "/webhook/telegram", json={}, headers={"X-Forwarded-Proto": "https"}
        )
        listened = listening_ports(edge.pid)
    assert edge.http_port in listened
    assert edge.https_port not in listened
    assert answer.status_code == 200
    assert "strict-transport-security" not in answer.headers
    assert app_a.seen[0].headers["x-forwarded-proto"] == "http"
