"""deploy/alertmanager checked by amtool: the configuration, the routing cases of
deploy/alertmanager/tests/routes.yml, the route of every alert rule, and no secret in it."""

import pytest

from tests.monitoring.tools import (
    ALERTMANAGER_CONFIG,
    ROUTE_CASES,
    alert_rules,
    load_yaml,
    run,
)

# What every receiver's secret is read from: a file (a Compose secret), never a value.
SECRET_FIELDS = {
    "slack_configs": ("api_url", "api_url_file"),
    "pagerduty_configs": ("routing_key", "routing_key_file"),
    "email_configs": ("auth_password", "auth_password_file"),
}


def route(labels: dict[str, str], expected: list[str]) -> tuple[int, str]:
    """amtool's verdict on `labels` against the expected receivers: (exit code, output)."""
    done = run(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={','.join(expected)}",
        *(f"{name}={value}" for name, value in labels.items()),
    )
    return done.returncode, done.stdout + done.stderr


def expected_receivers(labels: dict[str, str]) -> list[str]:
    """The routing policy of docs/monitoring.md, stated independently of the file."""
    if labels.get("kind") == "deployment":
        return ["slack-deployments"]
    if labels.get("severity") == "critical":
        return ["pagerduty", "email-oncall"]
    return ["slack-alerts"]


def test_amtool_accepts_the_configuration() -> None:
    done = run("amtool", "check-config", str(ALERTMANAGER_CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 receivers" in done.stdout
    assert "3 inhibit rules" in done.stdout


@pytest.mark.parametrize(
    "case", load_yaml(ROUTE_CASES)["cases"], ids=lambda case: case["labels"]["alertname"]
)
def test_route_case(case: dict) -> None:
    code, output = route(case["labels"], case["receivers"])
    assert code == 0, output
    assert expected_receivers(case["labels"]) == case["receivers"]


def test_every_alert_rule_reaches_the_receivers_its_labels_call_for() -> None:
    for rule in alert_rules():
        labels = {"alertname": rule.name, **rule.labels}
        code, output = route(labels, expected_receivers(labels))
        assert code == 0, f"{rule.name}: {output}"


def test_a_wrong_expectation_fails() -> None:
    """The route checks can fail: a critical alert is not for Slack."""
    code, output = route({"alertname": "InstanceDown", "severity": "critical"}, ["slack-alerts"])
    assert code != 0
    assert "did not match" in output


def test_secrets_come_from_files_only() -> None:
    config = load_yaml(ALERTMANAGER_CONFIG)
    assert "smtp_auth_password" not in config["global"]
    assert config["global"]["smtp_auth_password_file"].startswith("/run/secrets/")
    seen = 0
    for receiver in config["receivers"]:
        for kind, (value_field, file_field) in SECRET_FIELDS.items():
            for entry in receiver.get(kind, []):
                seen += 1
                assert value_field not in entry, f"{receiver['name']} holds {value_field}"
                if kind != "email_configs":  # email uses the global password file
                    assert entry[file_field].startswith("/run/secrets/"), receiver["name"]
    assert seen == 4
