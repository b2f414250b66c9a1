"""Prometheus and Alertmanager as compose.production.yaml runs them (official images, or
their offline stand-ins): Alertmanager healthy first, then Prometheus with the project's
scrape jobs and every rule of deploy/prometheus/rules loaded, sending to that Alertmanager,
and scraping itself and Alertmanager successfully. Only these two services start."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose_config import (
    COMPOSE_DIR,
    ENVIRONMENTS,
    deployment_variables,
    write_secrets,
)
from tests.docker.containers import ComposeProject, wait_until
from tests.monitoring.tools import RULES_DIR, alert_rules, load_yaml

pytestmark = pytest.mark.usefixtures("standin_images")


def prometheus_api(project: ComposeProject, path: str) -> Any:
    """GET /api/v1/PATH inside the prometheus container (no port is published)."""
    done = project.compose(
        "exec", "-T", "prometheus", "wget", "-qO-", f"http://127.0.0.1:9090/api/v1/{path}"
    )
    answer = json.loads(done.stdout)
    assert answer["status"] == "success", answer
    return answer["data"]


def test_prometheus_loads_the_rules_and_reaches_alertmanager(
    compose_project: Callable[..., ComposeProject], tmp_path: Path
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    env = deployment_variables(write_secrets(tmp_path / "secrets"), certs)
    project = compose_project([COMPOSE_DIR / name for name in ENVIRONMENTS["production"]], env=env)
    project.up("prometheus", wait_timeout=180)
    started = {container["Service"] for container in project.containers()}
    assert started == {"prometheus", "alertmanager"}

    groups = prometheus_api(project, "rules")["groups"]
    loaded = {rule["name"]: rule["type"] for group in groups for rule in group["rules"]}
    assert {name for name, kind in loaded.items() if kind == "alerting"} == {
        rule.name for rule in alert_rules()
    }
    recording = [
        rule["record"]
        for group in load_yaml(RULES_DIR / "recording.yml")["groups"]
        for rule in group["rules"]
    ]
    assert {name for name, kind in loaded.items() if kind == "recording"} == set(recording)

    active = prometheus_api(project, "alertmanagers")["activeAlertmanagers"]
    assert [entry["url"].endswith(":9093/api/v2/alerts") for entry in active] == [True]

    def scraped() -> dict[str, str]:
        targets = prometheus_api(project, "targets?state=active")["activeTargets"]
        return {target["labels"]["job"]: target["health"] for target in targets}

    # the first scrapes come within one 15 s interval
    wait_until(
        lambda: scraped().get("alertmanager") == "up" and scraped().get("prometheus") == "up",
        45,
        "Prometheus scrapes itself and Alertmanager",
        1.0,
    )
    # the exporters' jobs are configured (static targets); they are other services
    assert {"redis-cluster-monitor", "node", "postgres", "redis", "nginx"} <= set(scraped())
