"""Where the monitoring files are, the Debian binaries that check and run them
(`prometheus`, `prometheus-alertmanager`: scripts/ensure-services.sh installs them), and
readers of the rule and test files."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES_DIR = PROMETHEUS_DIR / "rules"
ALERT_RULES = RULES_DIR / "alerts.yml"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
ALERTMANAGER_DIR = ROOT / "deploy" / "alertmanager"
ALERTMANAGER_CONFIG = ALERTMANAGER_DIR / "alertmanager.yml"
ROUTE_CASES = ALERTMANAGER_DIR / "tests" / "routes.yml"
MONITORING_DOC = ROOT / "docs" / "monitoring.md"


def binary(name: str) -> str:
    """The path of `name`; fails loudly (never skips) when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin:/bin")
    if found is None:
        raise RuntimeError(f"{name} is not installed: run scripts/ensure-services.sh")
    return found


def run(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs a tool to completion; the caller judges the exit code."""
    return subprocess.run(
        [binary(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]
    for_: str | None


def alert_rules(path: Path = ALERT_RULES) -> list[AlertRule]:
    """Every alerting rule of a rule file, in file order."""
    rules = []
    for group in load_yaml(path)["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                rules.append(
                    AlertRule(
                        rule["alert"],
                        rule["expr"],
                        rule.get("labels", {}),
                        rule.get("annotations", {}),
                        rule.get("for"),
                    )
                )
    return rules


def rule_test_files() -> list[Path]:
    return sorted(RULE_TESTS_DIR.glob("*.yml"))


def alert_cases() -> dict[str, dict[str, int]]:
    """For each alert name: how many promtool checks expect it firing and how many quiet."""
    cases: dict[str, dict[str, int]] = {}
    for path in rule_test_files():
        for test in load_yaml(path)["tests"]:
            for check in test.get("alert_rule_test", []):
                kind = "fires" if check.get("exp_alerts") else "quiet"
                counts = cases.setdefault(check["alertname"], {"fires": 0, "quiet": 0})
                counts[kind] += 1
    return cases
