"""Alerts delivered for real: Prometheus evaluates the project's rules against live
scrapes, Alertmanager routes them with the project's configuration, and each notice
arrives at the local Slack, PagerDuty or SMTP server it should reach, and at no other.

Scraped data makes four alerts true at once: LedgerCheckFailing and HostDiskSpaceCritical
(critical: PagerDuty and email), CircuitBreakerOpen (warning: Slack #alerts),
DeploymentRevisionsMixed (kind=deployment: Slack #deployments). HostDiskSpaceLow fires too
(3 % free is also under 10 %) and must reach nobody: HostDiskSpaceCritical inhibits it."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from shopbot.http.serve_aiohttp import serve_aiohttp
from tests.monitoring.receivers import (
    dumps,
    http_receivers,
    slack_alert_names,
    smtp_server,
)
from tests.monitoring.stack import (
    alertmanager,
    derive_alertmanager_config,
    derive_prometheus_config,
    eventually,
    prometheus,
)
from tests.monitoring.tools import ALERTMANAGER_CONFIG, load_yaml

DELIVERY_SECONDS = 60
# after the last expected notice: several evaluation and group intervals (1 s each) for
# anything that should not arrive to have arrived
QUIET_SECONDS = 4
CRITICAL = {"LedgerCheckFailing", "HostDiskSpaceCritical"}


def app_metrics() -> str:
    # two revisions of the bot at once (a deployment half done), an open breaker, a ledger
    # check that just ran and found a discrepancy
    return "\n".join(
        [
            'shopbot_build_info{version="1.4.0",revision="abc1234",colour="blue"} 1',
            'shopbot_build_info{version="1.5.0",revision="def5678",colour="green"} 1',
            'shopbot_circuit_breaker_state{breaker="heleket"} 2',
            'shopbot_circuit_breaker_state{breaker="telegram"} 0',
            "shopbot_ledger_check_ok 0",
            f"shopbot_ledger_check_timestamp_seconds {time.time():.3f}",
            "",
        ]
    )


def node_metrics() -> str:
    # / at 3 % free: under both disk thresholds; memory plentiful
    labels = 'device="/dev/sda1",fstype="ext4",mountpoint="/"'
    return "\n".join(
        [
            f"node_filesystem_avail_bytes{{{labels}}} 3e9",
            f"node_filesystem_size_bytes{{{labels}}} 1e11",
            "node_memory_MemAvailable_bytes 8e9",
            "node_memory_MemTotal_bytes 1.6e10",
            "",
        ]
    )


@asynccontextmanager
async def exporters() -> AsyncIterator[str]:
    """One HTTP server: /app/metrics as a bot, /node/metrics as node_exporter."""

    async def app_exporter(_: web.Request) -> web.Response:
        return web.Response(text=app_metrics(), content_type="text/plain", charset="utf-8")

    async def node_exporter(_: web.Request) -> web.Response:
        return web.Response(text=node_metrics(), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/app/metrics", app_exporter)
    app.router.add_get("/node/metrics", node_exporter)
    async with serve_aiohttp(app, shutdown_timeout=1.0) as url:
        yield url.removeprefix("http://")


async def test_each_alert_reaches_exactly_its_receivers(tmp_path: Path) -> None:
    routing_key = secrets.token_hex(16)
    smtp_password = secrets.token_urlsafe(12)
    smtp_login = load_yaml(ALERTMANAGER_CONFIG)["global"]["smtp_auth_username"]
    async with (
        http_receivers() as http,
        smtp_server(smtp_login, smtp_password, tmp_path / "tls") as smtp,
        exporters() as exporter,
    ):
        am_config = derive_alertmanager_config(
            tmp_path,
            secrets={
                "alertmanager_slack_alerts_url": f"{http.base_url}/slack/alerts",
                "alertmanager_slack_deployments_url": f"{http.base_url}/slack/deployments",
                "alertmanager_pagerduty_routing_key": routing_key,
                "alertmanager_smtp_password": smtp_password,
            },
            smtp_port=smtp.port,
            smtp_ca_file=smtp.certificate,
            pagerduty_url=f"{http.base_url}/pagerduty/v2/enqueue",
        )
        # Alertmanager first, so Prometheus's first notifications find it
        async with alertmanager(am_config, tmp_path) as am_url:
            prom_config = derive_prometheus_config(
                tmp_path,
                {"app": (exporter, "/app/metrics"), "node": (exporter, "/node/metrics")},
                am_url.removeprefix("http://"),
            )
            async with prometheus(prom_config, tmp_path) as prom_url:

                def pagerduty() -> list[dict[str, Any]]:
                    return http.of("/pagerduty/v2/enqueue")

                def slack() -> list[dict[str, Any]]:
                    return http.of("/slack/alerts")

                def deployments() -> list[dict[str, Any]]:
                    return http.of("/slack/deployments")

                def paged() -> set[str]:
                    return {
                        event["payload"]["summary"].split("] ", 1)[1].split(" ", 1)[0]
                        for event in pagerduty()
                    }

                def mailed() -> set[str]:
                    return {mail.subject.split("] ", 1)[1].split(" ", 1)[0] for mail in smtp.mails}

                started = time.monotonic()
                await eventually(
                    lambda: (
                        paged() == CRITICAL
                        and mailed() == CRITICAL
                        and bool(slack())
                        and bool(deployments())
                    ),
                    DELIVERY_SECONDS,
                    f"every receiver notified: {dumps(http.posts)} {smtp.mails}",
                )
                delivered = time.monotonic() - started
                await asyncio.sleep(QUIET_SECONDS)

                async with httpx.AsyncClient() as client:
                    firing = (await client.get(f"{prom_url}/api/v1/alerts")).json()
                    held = (await client.get(f"{am_url}/api/v2/alerts")).json()

    # Prometheus did fire HostDiskSpaceLow, and Alertmanager holds it inhibited
    assert "HostDiskSpaceLow" in {
        alert["labels"]["alertname"]
        for alert in firing["data"]["alerts"]
        if alert["state"] == "firing"
    }
    low = [alert for alert in held if alert["labels"]["alertname"] == "HostDiskSpaceLow"]
    assert low, dumps(held)
    assert low[0]["status"]["state"] == "suppressed", dumps(low)
    assert low[0]["status"]["inhibitedBy"], dumps(low)

    # critical: PagerDuty (Events v2, the key from its secret file) and email, nothing else
    assert paged() == CRITICAL
    for event in pagerduty():
        assert event["routing_key"] == routing_key
        assert event["event_action"] == "trigger"
        assert event["payload"]["severity"] == "critical"
    assert mailed() == CRITICAL
    for mail in smtp.mails:
        assert mail.recipients == ["oncall@shopbot.example"]
        assert mail.login == smtp_login  # AUTH with the password read from its file
        assert "runbook: docs/monitoring.md#" in mail.text
    assert smtp.refused_logins == 0

    # warning: Slack #alerts, only CircuitBreakerOpen (not the inhibited HostDiskSpaceLow,
    # not the critical ones, not the deployment)
    assert set(slack_alert_names(slack())) == {"CircuitBreakerOpen"}, dumps(slack())
    assert all(post["channel"] == "#alerts" for post in slack())
    assert "heleket" in slack()[0]["attachments"][0]["text"]

    # kind=deployment: Slack #deployments only
    assert set(slack_alert_names(deployments())) == {"DeploymentRevisionsMixed"}
    assert all(post["channel"] == "#deployments" for post in deployments())

    # and nothing went anywhere else
    assert set(http.posts) == {"/pagerduty/v2/enqueue", "/slack/alerts", "/slack/deployments"}
    print(f"\nfrom Prometheus ready to every notice delivered: {delivered:.1f} s")
