"""Reading deploy/grafana the way Grafana does: the provisioned data source, the dashboards
the provider loads, their queries, and the template variables Grafana substitutes before a
query reaches Prometheus."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.monitoring.tools import ROOT, load_yaml

GRAFANA_DIR = ROOT / "deploy" / "grafana"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA_DIR / "provisioning" / "dashboards" / "shopbot.yml"
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
# Grafana derives $__interval from the time range over the panel's width in points, never
# under the panel's min interval (`interval`) or the data source's timeInterval (15 s);
# for a panel without a min interval, 15 s stands for it here.
DEFAULT_INTERVAL_SECONDS = 15
# Grafana asks for at most about one point per pixel: a range query's step is at least
# the time range over this many points (its default max data points for a wide panel).
MAX_DATA_POINTS = 1000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RELATIVE = re.compile(r"^now-(\d+)([smhdw])$")
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


def datasource_uid() -> str:
    """The uid of the one provisioned Prometheus data source."""
    (source,) = load_yaml(DATASOURCES)["datasources"]
    assert source["type"] == "prometheus"
    uid: str = source["uid"]
    return uid


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included (a collapsed row keeps its own)."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def seconds(duration: str) -> int:
    match = _DURATION.match(duration)
    assert match, f"not a duration: {duration}"
    return int(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref_id: str
    expr: str
    interval_seconds: int
    range_seconds: int
    instant: bool

    @property
    def step_seconds(self) -> int:
        """The step Grafana would give a range query over the dashboard's time range."""
        return max(self.interval_seconds, self.range_seconds // MAX_DATA_POINTS)

    def promql(self, scrape_interval_seconds: int) -> str:
        """The expression with Grafana's built-in variables and every dashboard variable
        at "All" replaced as Grafana would: `$__rate_interval` is max($__interval +
        scrape interval, 4 x scrape interval) (Grafana docs, "Prometheus template
        variables"); a multi-value variable at All becomes its `allValue`, here `.+`."""
        rate = max(self.interval_seconds + scrape_interval_seconds, 4 * scrape_interval_seconds)
        text = self.expr.replace("$__rate_interval", f"{rate}s")
        text = text.replace("$__interval", f"{self.interval_seconds}s")
        text = text.replace("$__range", f"{self.range_seconds}s")
        return re.sub(r"\$\{?(\w+)\}?", ".+", text)


def queries(path: Path) -> list[Query]:
    dashboard = load_dashboard(path)
    match = _RELATIVE.match(dashboard["time"]["from"])
    assert match, dashboard["time"]
    assert dashboard["time"]["to"] == "now", dashboard["time"]
    range_seconds = int(match[1]) * _UNITS[match[2]]
    found = []
    for panel in panels(dashboard):
        interval = panel.get("interval")
        interval_seconds = seconds(interval) if interval else DEFAULT_INTERVAL_SECONDS
        for target in panel.get("targets", []):
            found.append(
                Query(
                    dashboard["uid"],
                    panel["title"],
                    target["refId"],
                    target["expr"],
                    interval_seconds,
                    range_seconds,
                    bool(target.get("instant")) and not target.get("range"),
                )
            )
    return found


_LABEL_VALUES = re.compile(r"^label_values\((?P<match>.+),\s*(?P<label>\w+)\)$")


def variable_query(variable: dict[str, Any]) -> tuple[str, str]:
    """A query variable's `label_values(selector, label)` as (selector with other
    variables at All, label): what Grafana asks /api/v1/label/<label>/values for."""
    query = variable["query"]
    text = query["query"] if isinstance(query, dict) else query
    parsed = _LABEL_VALUES.match(text)
    assert parsed, f"{variable['name']}: not label_values(...): {text}"
    return re.sub(r"\$\{?(\w+)\}?", ".+", parsed["match"]), parsed["label"]
