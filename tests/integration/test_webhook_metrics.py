"""The webhook service's `/metrics` over real HTTP on real PostgreSQL: each Heleket
webhook's outcome, the payment it settles and the money credited move their counters;
HTTP metrics are labelled by route template, never by the raw path."""

import os
from decimal import Decimal

import httpx

from shopbot.persistence.uow import UnitOfWorkFactory
from tests.integration.webhook_fixtures import (
    open_invoice,
    paid_payload,
    signed,
    webhook_service,
    webhook_settings,
)
from tests.metrics_scrape import Series, parse, series, value

JSON = {"Content-Type": "application/json"}


async def scrape(client: httpx.AsyncClient) -> dict[Series, float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


async def test_webhook_outcomes_payments_and_credit_are_counted(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    async with webhook_service(webhook_settings(pg_url)) as client:
        before = await scrape(client)
        assert (await client.post("/webhook/heleket", content=body, headers=JSON)).json()[
            "outcome"
        ] == "applied"
        assert (await client.post("/webhook/heleket", content=body, headers=JSON)).json()[
            "outcome"
        ] == "duplicate"
        forged = signed(paid_payload(), key="not-the-key")
        assert (
            await client.post("/webhook/heleket", content=forged, headers=JSON)
        ).status_code == 401
        after = await scrape(client)
    async with webhook_service(
        webhook_settings(pg_url, heleket_allowed_ips=["192.0.2.8"])
    ) as other:
        assert (await other.post("/webhook/heleket", content=body, headers=JSON)).status_code == 403
        last = await scrape(other)

    def moved(samples: dict[Series, float], name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    webhooks = "shopbot_heleket_webhooks_total"
    assert moved(after, webhooks, outcome="accepted") == 1
    assert moved(after, webhooks, outcome="duplicate") == 1
    assert moved(after, webhooks, outcome="bad_signature") == 1
    assert moved(last, webhooks, outcome="bad_ip") == 1
    assert moved(after, "shopbot_payments_total", provider="heleket", status="paid") == 1
    credited = moved(after, "shopbot_credited_total", provider="heleket", currency="USD")
    assert Decimal(str(credited)) == Decimal("25.00")
    route = {"handler": "/webhook/heleket", "method": "POST"}
    assert moved(after, "shopbot_http_requests_total", **route, code="200") == 2
    assert moved(after, "shopbot_http_requests_total", **route, code="401") == 1
    assert moved(after, "shopbot_http_request_duration_seconds_count", **route) == 3
    build = {
        "version": "0.1.0",
        "revision": os.environ.get("GIT_REVISION") or "unknown",
        "colour": os.environ.get("DEPLOYMENT_COLOUR") or "none",
    }
    assert value(after, "shopbot_build_info", **build) == 1
    assert moved(after, "shopbot_db_query_duration_seconds_count", operation="insert") >= 1


async def test_raw_paths_never_become_labels(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with webhook_service(webhook_settings(pg_url)) as client:
        for n in range(50):
            assert (await client.get(f"/scan/{n}/wp-login.php")).status_code == 404
        samples = await scrape(client)
    handlers = {dict(labels)["handler"] for name, labels in series(samples, "shopbot_http_")}
    assert "unmatched" in handlers
    assert not any("scan" in handler for handler in handlers)
    # The registry is the process's: route templates of the bot's server (tests before this
    # one in the worker) may be there too, but never a raw path.
    templates = {"/metrics", "/webhook/heleket", "/webhook/telegram", "/health", "/health/ready"}
    docs = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    assert handlers <= {"unmatched"} | templates | docs


async def test_metrics_enabled_false_leaves_out_the_timing(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    async with webhook_service(webhook_settings(pg_url, metrics_enabled=False)) as client:
        before = await scrape(client)
        assert (await client.post("/webhook/heleket", content=body, headers=JSON)).is_success
        after = await scrape(client)

    route = {"handler": "/webhook/heleket", "method": "POST", "code": "200"}
    assert value(after, "shopbot_http_requests_total", **route) == value(
        before, "shopbot_http_requests_total", **route
    )
    statements = "shopbot_db_query_duration_seconds_count"
    assert value(after, statements, operation="insert") == value(
        before, statements, operation="insert"
    )
    # What the shop did is still counted: those counters cost one addition each.
    assert (
        value(after, "shopbot_heleket_webhooks_total", outcome="accepted")
        == value(before, "shopbot_heleket_webhooks_total", outcome="accepted") + 1
    )
