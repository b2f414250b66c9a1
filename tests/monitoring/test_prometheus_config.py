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


# The metric contract (docs/monitoring.md#metrics-the-rules-read): the application's names,
# the Redis cluster monitor's, and the exporters' standard names the rules read.
CONTRACT_METRICS = {
    "shopbot_build_info",
    "shopbot_updates_total",
    "shopbot_update_duration_seconds",
    "shopbot_telegram_api_requests_total",
    "shopbot_telegram_api_duration_seconds",
    "shopbot_payments_total",
    "shopbot_payments_pending",
    "shopbot_heleket_webhooks_total",
    "shopbot_credited_total",
    "shopbot_orders_total",
    "shopbot_deliveries_total",
    "shopbot_broadcast_messages_total",
    "shopbot_circuit_breaker_state",
    "shopbot_db_query_duration_seconds",
    "shopbot_redis_command_duration_seconds",
    "shopbot_ledger_check_ok",
    "shopbot_ledger_check_timestamp_seconds",
    "shopbot_http_requests_total",
    "shopbot_http_request_duration_seconds",
    "shopbot_redis_cluster_health",
    "shopbot_redis_cluster_state_ok",
    "up",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_cpu_seconds_total",
    "pg_replica_lag_seconds",
    "pg_up",
    "redis_up",
    "pg_replication_slots_active",
    "node_textfile_scrape_error",
}
# PromQL words that look like metric names in an expression
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "on", "and", "or", "unless", "rate",
    "increase", "histogram_quantile", "time", "le", "bool", "group_left",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Names a PromQL expression selects: identifiers outside braces and strings that are
    neither PromQL words nor a rule's own recorded series (those contain a colon)."""
    bare = re.sub(r"\{[^}]*\}|\"[^\"]*\"|\([^()]*\bby\b[^()]*\)", " ", expr)
    bare = re.sub(r"\b(by|on)\s*\([^)]*\)", " ", bare)
    names = set(re.findall(r"(?<![:\w])[a-zA-Z_][a-zA-Z0-9_]*(?![:\w(])", bare))
    names -= PROMQL_WORDS
    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in names} - {""}


def test_rules_read_only_the_contract_s_metrics() -> None:
    """A misspelt metric makes an alert that can never fire; every name a rule reads is in
    the contract M1 implements (or is a recording rule's output)."""
    recorded = {
        rule["record"]
        for group in load_yaml(RULES_DIR / "recording.yml")["groups"]
        for rule in group["rules"]
    }
    expressions = [rule.expr for rule in alert_rules()] + [
        rule["expr"]
        for group in load_yaml(RULES_DIR / "recording.yml")["groups"]
        for rule in group["rules"]
    ]
    read = set().union(*map(metric_names, expressions))
    assert read - CONTRACT_METRICS == set()
    assert {"up", "shopbot_updates_total", "shopbot_http_requests_total"} <= read
    for expr in expressions:
        for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", expr):
            assert name in recorded, f"{name} is read but never recorded"
    assert metric_names('sum by (job) (rate(shopbot_updates_total{outcome="error"}[5m]))') == {
        "shopbot_updates_total"
    }
