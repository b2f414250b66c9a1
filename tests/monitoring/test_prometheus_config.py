"""deploy/prometheus checked by Prometheus's own promtool: the configuration, the rules, and
the alert unit tests, each alert fired by one case and kept quiet by another."""

import re
import shutil
from pathlib import Path

import yaml

from tests.monitoring.tools import (
    ALERT_RULES,
    MONITORING_DOC,
    PROMETHEUS_CONFIG,
    PROMETHEUS_DIR,
    RULES_DIR,
    alert_cases,
    alert_rules,
    load_yaml,
    rule_test_files,
    run,
)

# The metric contract's jobs (docs/monitoring.md), plus Prometheus and Alertmanager themselves.
CONTRACT_JOBS = {"app", "webhook", "redis-cluster-monitor", "node", "postgres", "redis", "nginx"}
# Every alert the issue names (issue 12, item 2), by the rule that covers it.
REQUIRED_ALERTS = {
    "InstanceDown",
    "ShopbotHighErrorRatio",
    "ShopbotLatencySLOBreach",
    "HeleketSignatureFailuresSpike",
    "PaymentsStuckPending",
    "HeleketWebhooksQuarantined",
    "LedgerCheckFailing",
    "TelegramRateLimitStorm",
    "RedisClusterDegraded",
    "PostgresReplicationLag",
    "HostDiskSpaceLow",
    "HostMemoryLow",
    "HostCpuSaturated",
}


def test_promtool_accepts_the_configuration_and_its_rule_files() -> None:
    done = run("promtool", "check", "config", str(PROMETHEUS_CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
    # the glob found both rule files (the test files stay out of it)
    assert "2 rule files found" in done.stdout


def test_promtool_accepts_every_rule_file() -> None:
    files = sorted(RULES_DIR.glob("*.yml"))
    assert {path.name for path in files} == {"alerts.yml", "recording.yml"}
    done = run("promtool", "check", "rules", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_unit_test_passes() -> None:
    files = rule_test_files()
    assert len(files) >= 3
    done = run("promtool", "test", "rules", *map(str, files), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(files)


def test_promtool_test_rules_fails_a_wrong_expectation(tmp_path: Path) -> None:
    """The unit tests can fail: the same case expecting the opposite is refused."""
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    case = load_yaml(PROMETHEUS_DIR / "tests" / "payments_test.yml")
    ledger = next(t for t in case["tests"] if t["name"].startswith("LedgerCheckFailing fires"))
    ledger["alert_rule_test"][0]["exp_alerts"] = []
    case["tests"] = [ledger]
    (tmp_path / "tests").mkdir()
    target = tmp_path / "tests" / "inverted_test.yml"
    target.write_text(yaml.safe_dump(case), encoding="utf-8")
    done = run("promtool", "test", "rules", str(target))
    assert done.returncode != 0
    assert "LedgerCheckFailing" in done.stdout + done.stderr


def test_every_alert_has_a_firing_case_and_a_quiet_case() -> None:
    cases = alert_cases()
    names = [rule.name for rule in alert_rules()]
    assert len(names) == len(set(names)), "alert names repeat"
    missing = {
        name: cases.get(name, {"fires": 0, "quiet": 0})
        for name in names
        if cases.get(name, {}).get("fires", 0) == 0 or cases.get(name, {}).get("quiet", 0) == 0
    }
    assert missing == {}
    assert set(cases) <= set(names), "a test names an alert that does not exist"


def test_the_issue_s_alerts_all_exist() -> None:
    assert {rule.name for rule in alert_rules()} >= REQUIRED_ALERTS


def test_every_alert_has_severity_team_and_a_documented_runbook() -> None:
    doc = MONITORING_DOC.read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)
    }
    for rule in alert_rules():
        assert rule.labels.get("severity") in {"critical", "warning"}, rule.name
        assert rule.labels.get("team") in {"sre", "bot", "payments"}, rule.name
        assert {"summary", "description", "runbook"} <= set(rule.annotations), rule.name
        runbook = rule.annotations["runbook"]
        assert runbook == f"docs/monitoring.md#{rule.name.lower()}", rule.name
        assert rule.name.lower() in anchors, f"{rule.name} has no section in {MONITORING_DOC}"
        assert f"| {rule.name} |" in doc, f"{rule.name} is missing from the alerts table"


def test_scrape_jobs_are_the_contract_s() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs - {"prometheus", "alertmanager"} == CONTRACT_JOBS
    by_name = {job["job_name"]: job for job in config["scrape_configs"]}
    # every bot replica is its own target: Docker's DNS answers `app` with each address
    assert by_name["app"]["dns_sd_configs"] == [
        {"names": ["app"], "type": "A", "port": 8080, "refresh_interval": "30s"}
    ]
    assert config["rule_files"] == ["rules/*.yml"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]


def test_alert_rules_select_only_bounded_labels() -> None:
    """No rule groups or filters by a label the contract forbids (user ids, raw paths)."""
    text = ALERT_RULES.read_text(encoding="utf-8") + (RULES_DIR / "recording.yml").read_text(
        encoding="utf-8"
    )
    for forbidden in ("user_id", "chat_id", "path=", "by (path", "amount"):
        assert forbidden not in text
