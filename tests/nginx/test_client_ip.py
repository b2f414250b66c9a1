"""The client address: forwarded headers count only from NGINX_TRUSTED_PROXIES, and the
services get nginx's verdict, never the client's own claims. 127.0.0.2 plays the trusted
proxy (Cloudflare, cloudflared) and 127.0.0.1 an ordinary client: both are loopback."""

from pathlib import Path

import httpx

from tests.nginx.edge import running_edge
from tests.nginx.upstreams import Seen, Upstream

PROXY = "127.0.0.2"
SPOOFED = {
    "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
    "CF-Connecting-IP": "203.0.113.10",
    "X-Real-IP": "203.0.113.11",
}


async def post_from(source: str, base_url: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(base_url=base_url, transport=transport) as client:
        return await client.post("/webhook/heleket", content=b"{}", headers=headers)


def client_of(seen: Seen) -> str:
    """What a service behind nginx learns about the client, checked for consistency."""
    assert "cf-connecting-ip" not in seen.headers  # never passed on, whoever sent it
    assert seen.headers["x-real-ip"] == seen.headers["x-forwarded-for"]
    return seen.headers["x-forwarded-for"]


async def test_without_trusted_proxies_the_peer_is_the_client(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {"NGINX_APP_SERVERS": app_a.address, "NGINX_WEBHOOK_SERVERS": webhook.address}
    async with running_edge(tmp_path, variables) as edge:
        for source in ("127.0.0.1", PROXY):
            answer = await post_from(source, edge.http, SPOOFED)
            assert answer.status_code == 200
    assert [client_of(seen) for seen in webhook.seen] == ["127.0.0.1", PROXY]


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {
        "NGINX_APP_SERVERS": app_a.address,
        "NGINX_WEBHOOK_SERVERS": webhook.address,
        "NGINX_TRUSTED_PROXIES": f"{PROXY}/32",
    }
    async with running_edge(tmp_path, variables) as edge:
        await post_from("127.0.0.1", edge.http, SPOOFED)  # an untrusted peer: ignored
        await post_from(PROXY, edge.http, SPOOFED)  # the nearest untrusted hop
        # real_ip_recursive: a trusted hop (the proxy itself) is skipped.
        await post_from(PROXY, edge.http, {"X-Forwarded-For": f"198.51.100.1, {PROXY}"})
        await post_from(PROXY, edge.http, {})  # the proxy's own request
    assert [client_of(seen) for seen in webhook.seen] == [
        "127.0.0.1",
        "203.0.113.9",
        "198.51.100.1",
        PROXY,
    ]


async def test_cf_connecting_ip_counts_only_from_a_trusted_proxy(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {
        "NGINX_APP_SERVERS": app_a.address,
        "NGINX_WEBHOOK_SERVERS": webhook.address,
        "NGINX_TRUSTED_PROXIES": PROXY,
        "NGINX_REAL_IP_HEADER": "CF-Connecting-IP",
    }
    async with running_edge(tmp_path, variables) as edge:
        await post_from("127.0.0.1", edge.http, SPOOFED)
        await post_from(PROXY, edge.http, SPOOFED)
    assert [client_of(seen) for seen in webhook.seen] == ["127.0.0.1", "203.0.113.10"]


async def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    tmp_path: Path, app_a: Upstream, webhook: Upstream
) -> None:
    variables = {
        "NGINX_APP_SERVERS": app_a.address,
        "NGINX_WEBHOOK_SERVERS": webhook.address,
        "NGINX_TRUSTED_PROXIES": PROXY,
    }
    async with running_edge(tmp_path, variables) as edge:
        await post_from("127.0.0.1", edge.http, {"X-Forwarded-Proto": "https"})
        await post_from(PROXY, edge.http, {"X-Forwarded-Proto": "https"})
    assert [seen.headers["x-forwarded-proto"] for seen in webhook.seen] == ["http", "https"]
