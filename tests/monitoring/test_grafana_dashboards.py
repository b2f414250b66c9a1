"""deploy/grafana: the provisioning Grafana reads, every dashboard's structure, and every
panel query run against a real Prometheus (the project's recording rules loaded) scraping a
journey's metrics, so each parses and returns data. No Grafana server runs here: the checks
are those its provisioning and query path would make."""

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.monitoring.grafana import (
    DATASOURCES,
    PROVIDERS,
    Query,
    dashboard_files,
    datasource_uid,
    load_dashboard,
    panels,
    queries,
    variable_query,
)
from tests.monitoring.journey_sample import JOBS, journey_exporter
from tests.monitoring.stack import derive_prometheus_config, prometheus
from tests.monitoring.test_prometheus_config import CONTRACT_METRICS, metric_names
from tests.monitoring.tools import MONITORING_DOC, ROOT, RULES_DIR, load_yaml

DASHBOARDS = {
    "shopbot-shop-overview": "Shop overview",
    "shopbot-bot-health": "Bot health",
    "shopbot-infrastructure": "Infrastructure",
    "shopbot-deployments": "Deployments",
}
# Grafana 10.4 (compose.production.yaml's image) writes schemaVersion 39.
SCHEMA_VERSION = 39
SCRAPE_SECONDS = 1
DATA_SECONDS = 60
COMPOSE = ROOT / "deploy" / "compose" / "compose.production.yaml"


@pytest.fixture(scope="module", params=dashboard_files(), ids=lambda path: path.stem)
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    value: dict[str, Any] = load_dashboard(request.param)
    return value


def test_the_four_dashboards_exist() -> None:
    found = {
        load_dashboard(path)["uid"]: load_dashboard(path)["title"] for path in dashboard_files()
    }
    assert found == DASHBOARDS


def test_provisioning_points_at_what_compose_mounts() -> None:
    (source,) = load_yaml(DATASOURCES)["datasources"]
    assert source["url"] == "http://prometheus:9090"
    # the data source's interval is Prometheus's scrape interval ($__rate_interval uses it)
    scrape = load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.yml")["global"][
        "scrape_interval"
    ]
    assert source["jsonData"]["timeInterval"] == scrape
    (provider,) = load_yaml(PROVIDERS)["providers"]
    grafana = load_yaml(COMPOSE)["services"]["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    assert mounts[grafana["environment"]["GF_PATHS_PROVISIONING"]] == "../grafana/provisioning"
    assert mounts[provider["options"]["path"]] == "../grafana/dashboards"


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] in DASHBOARDS
    assert len(dashboard["uid"]) <= 40  # Grafana's limit on a uid
    assert dashboard["schemaVersion"] == SCHEMA_VERSION
    assert "shopbot" in dashboard["tags"]
    all_panels = list(panels(dashboard))
    ids = [panel["id"] for panel in all_panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    for panel in all_panels:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= grid.keys(), panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["title"]
        if panel["type"] == "row":
            continue
        assert panel.get("description"), f"{panel['title']}: says what it shows"
        targets = panel["targets"]
        assert targets, panel["title"]
        ref_ids = [target["refId"] for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(target["expr"].strip() for target in targets), panel["title"]
    # no two panels overlap on the 24-column grid
    cells: dict[tuple[int, int], str] = {}
    for panel in all_panels:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def _datasources(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [found for item in value for found in _datasources(item)]
    if not isinstance(value, dict):
        return []
    found = [value["datasource"]] if "datasource" in value else []
    return found + [
        f for key, item in value.items() if key != "datasource" for f in _datasources(item)
    ]


def test_every_datasource_is_the_provisioned_uid(dashboard: dict[str, Any]) -> None:
    uid = datasource_uid()
    references = _datasources(dashboard)
    assert references
    for reference in references:
        # a bare string is a data source *name* (Grafana's older form): renaming it in the
        # UI would break the panel, so only {type, uid} objects naming the uid are allowed
        assert reference == {"type": "prometheus", "uid": uid}, reference


def test_no_dashboard_hard_codes_a_datasource_name() -> None:
    name = load_yaml(DATASOURCES)["datasources"][0]["name"]
    for path in dashboard_files():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'"datasource":\s*"', text), path.name
        assert f'"{name}"' not in text, f"{path.name} names the data source {name!r}"
        assert "${DS_" not in text, f"{path.name} is an export with an input, not provisionable"


# Names the dashboards read beyond the rules' contract (docs/monitoring.md#grafana-dashboards):
# the cluster monitor's other gauges, the exporters' standard names for the Infrastructure
# panels, and the deployment tooling's metrics.
DASHBOARD_METRICS = {
    "shopbot_redis_cluster_masters",
    "shopbot_redis_cluster_replicas",
    "shopbot_redis_cluster_slots_ok",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "pg_up",
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_numbackends",
    "redis_commands_processed_total",
    "redis_memory_used_bytes",
    "nginx_http_requests_total",
    "nginx_connections_active",
    "nginx_connections_waiting",
    "shopbot_deployment_runs_total",
    "shopbot_deployment_duration_seconds",
    "shopbot_deployment_recovery_seconds",
    "shopbot_deployment_last_success_timestamp_seconds",
}


def test_dashboards_read_only_contract_metrics_and_recorded_series() -> None:
    """A misspelt name is a panel that is always empty; every name is in the contract, the
    list above, or a recording rule's output."""
    recorded = {
        rule["record"]
        for group in load_yaml(RULES_DIR / "recording.yml")["groups"]
        for rule in group["rules"]
    }
    read: set[str] = set()
    for path in dashboard_files():
        for query in queries(path):
            promql = query.promql(SCRAPE_SECONDS)
            read |= metric_names(promql)
            for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", promql):
                assert name in recorded, f"{query.panel}: {name} is never recorded"
    assert read - CONTRACT_METRICS - DASHBOARD_METRICS == set()
    # every application metric of the contract appears on some dashboard
    assert {name for name in CONTRACT_METRICS if name.startswith("shopbot_")} - read == set()


def test_monitoring_doc_describes_each_dashboard() -> None:
    text = MONITORING_DOC.read_text(encoding="utf-8")
    assert "## Grafana dashboards" in text
    for title in DASHBOARDS.values():
        assert f"### {title}" in text
    for metric in (
        "shopbot_deployment_runs_total",
        "shopbot_deployment_duration_seconds",
        "shopbot_deployment_recovery_seconds",
        "shopbot_deployment_last_success_timestamp_seconds",
    ):
        assert metric in text


async def _query(client: httpx.AsyncClient, url: str, promql: str) -> dict[str, Any]:
    answer = await client.post(f"{url}/api/v1/query", data={"query": promql})
    body: dict[str, Any] = answer.json()
    return body


async def _query_range(client: httpx.AsyncClient, url: str, query: Query) -> dict[str, Any]:
    """The range query a time series panel sends: the dashboard's whole time range, up to
    now, at Grafana's step (Prometheus refuses over 11,000 points a series)."""
    end = time.time()
    answer = await client.post(
        f"{url}/api/v1/query_range",
        data={
            "query": query.promql(SCRAPE_SECONDS),
            "start": f"{end - query.range_seconds:.3f}",
            "end": f"{end:.3f}",
            "step": f"{query.step_seconds}s",
        },
    )
    body: dict[str, Any] = answer.json()
    return body


async def _empty(client: httpx.AsyncClient, url: str, all_queries: list[Query]) -> list[str]:
    """Each query as an instant query (what a stat panel sends, and whether there is data
    now), and each time series panel's query as its range query too; every one must be
    accepted. Returns the queries whose instant answer is empty."""
    empty = []
    for query in all_queries:
        body = await _query(client, url, query.promql(SCRAPE_SECONDS))
        assert body["status"] == "success", f"{query}: {body}"
        if not query.instant:
            ranged = await _query_range(client, url, query)
            assert ranged["status"] == "success", f"{query}: {ranged}"
        if not body["data"]["result"]:
            empty.append(f"{query.dashboard} / {query.panel} / {query.ref_id}")
    return empty


async def test_every_panel_query_parses_and_returns_journey_data(tmp_path: Path) -> None:
    all_queries = [query for path in dashboard_files() for query in queries(path)]
    assert len(all_queries) >= 40
    async with journey_exporter() as exporter:
        config = derive_prometheus_config(
            tmp_path, {job: (exporter, f"/{job}/metrics") for job in JOBS}, "127.0.0.1:9"
        )
        # no Alertmanager here: the dashboards read, nothing is notified
        derived = load_yaml(config)
        del derived["alerting"]
        config.write_text(yaml.safe_dump(derived, sort_keys=False), encoding="utf-8")
        async with prometheus(config, tmp_path) as url, httpx.AsyncClient() as client:
            # Prometheus rejects what Grafana would show as a query error, even with no data
            started = time.monotonic()
            empty = await _empty(client, url, all_queries)
            while empty and time.monotonic() - started < DATA_SECONDS:
                await asyncio.sleep(1)
                empty = await _empty(client, url, all_queries)
            filled = time.monotonic() - started
            variables = []
            for path in dashboard_files():
                for variable in load_dashboard(path)["templating"]["list"]:
                    if variable["type"] == "query":
                        match, label = variable_query(variable)
                        answer = await client.get(
                            f"{url}/api/v1/label/{label}/values", params={"match[]": match}
                        )
                        variables.append((variable["name"], answer.json()["data"]))
    assert not empty, f"no data after {DATA_SECONDS} s: {empty}"
    # Bot health's $job and $instance list what runs (both jobs share the one exporter)
    assert dict(variables) == {"job": ["app", "webhook"], "instance": [exporter]}, variables
    print(
        f"\n{len(all_queries)} panel queries, all with data {filled:.1f} s after Prometheus ready"
    )
