"""The static checks of the deployment and the repository (docs/deployment.md#checks), each
a real scanner run offline: hadolint on every Dockerfile, the Compose specification's schema
on every Compose file, checkov and `trivy config` on deploy/, trivy's and detect-secrets'
secret scanners over the repository. `docker compose config` on every environment is
tests/deploy/test_topology.py's (each of its models is a real render that must succeed).

Each scanner is also shown a seeded bad input and must fail on it, so none of them can pass
by scanning nothing, by a flag that turns it off, or by a tool that could not run here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.scanners import (
    CHECKOV_CONFIG,
    CHECKOV_STANDINS_CONFIG,
    DEPLOY,
    HADOLINT_CONFIG,
    LOCAL_STATE,
    ROOT,
    SECRETS_BASELINE,
    STANDINS,
    TRIVY_IGNORE,
    TRIVY_SECRET_CONFIG,
    Run,
    checkov,
    compose_files,
    dockerfiles,
    git_files,
    run,
    tool,
    trivy_env,
    trivy_offline_flags,
)

pytestmark = pytest.mark.subprocess

# A real-looking but made-up credential of each kind the scanners must catch. The Telegram
# token has Telegram's form (a bot id, a colon, 35 characters); the AWS key id is AWS' own
# documentation example with one letter changed. Written only into temporary files; split
# so that the scanners of this repository do not match them here, and allowlisted where
# detect-secrets' entropy heuristic still would.
FAKE_BOT_ID = "7391046625"
FAKE_TELEGRAM_TOKEN = (
    f"{FAKE_BOT_ID}:AAF3kq9ZtW1xYp0RmL7vB2nC8dE5gH4jKsQ"  # pragma: allowlist secret
)
FAKE_AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLX"
FAKE_GITHUB_TOKEN = "ghp_" + "4fJ8kL2mN6pQ9rS1tU3vW5xY7zA0bC2dE4fG"  # pragma: allowlist secret

# A Dockerfile every Dockerfile scanner must refuse: the last USER is root, ADD copies a
# local file and fetches a URL, a key sits in an ENV.
BAD_DOCKERFILE = f"""FROM python:3.11-slim-bookworm
ADD app.py /app/app.py
ADD https://example.invalid/tool.tar.gz /opt/
ENV AWS_ACCESS_KEY_ID={FAKE_AWS_KEY_ID}
USER root
CMD ["python3", "/app/app.py"]
"""


def relative(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


# hadolint


def hadolint(*files: Path) -> Run:
    return run([tool("hadolint"), "--config", HADOLINT_CONFIG, "--no-color", *files], timeout=60)


def test_hadolint_passes_every_dockerfile():
    done = hadolint(*dockerfiles())
    assert done.returncode == 0, done.explain()


def test_hadolint_fails_a_root_user_and_add(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(BAD_DOCKERFILE)
    done = hadolint(bad)
    assert done.returncode == 1, done.explain()
    assert "DL3002" in done.stdout  # last USER should not be root
    assert "DL3020" in done.stdout  # COPY instead of ADD for files

    # a warning alone fails too: the configured threshold is `warning`, not `error`
    bad.write_text("FROM python:3.11-slim-bookworm\nUSER root\n")
    done = hadolint(bad)
    assert done.returncode == 1, done.explain()
    assert "DL3002 warning" in done.stdout


# the Compose specification's schema


def compose_schema(*files: Path) -> Run:
    command: list[str | Path] = [
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
    ]
    return run([*command, *files], timeout=60)


def test_every_compose_file_matches_the_compose_specification():
    files = compose_files()
    done = compose_schema(*files)
    assert done.returncode == 0, done.explain()
    assert "ok -- validation done" in done.stdout
    assert len(files) >= 4, relative(files)


def test_the_schema_refuses_an_unknown_key(tmp_path):
    spec = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    service = next(iter(spec["services"].values()))
    service["healthchek"] = service.get("healthcheck", {"test": ["CMD", "true"]})
    bad = tmp_path / "compose.yaml"
    bad.write_text(yaml.safe_dump(spec))
    done = compose_schema(bad)
    assert done.returncode == 1, done.explain()
    assert "healthchek" in done.stdout


# checkov (its own virtualenv)


@pytest.fixture(scope="module")
def checkov_binary() -> Path:
    return checkov()


def checkov_reports(done: Run) -> dict[str, dict[str, Any]]:
    """checkov's JSON reports by framework; a framework with nothing to report is absent
    (checkov then prints a bare summary, which has no `check_type`)."""
    parsed = json.loads(done.stdout)
    reports = parsed if isinstance(parsed, list) else [parsed]
    return {report["check_type"]: report for report in reports if "check_type" in report}


def failed_checks(report: dict[str, Any]) -> set[str]:
    return {check["check_id"] for check in report["results"]["failed_checks"]}


def run_checkov(binary: Path, config: Path, *target: str | Path) -> Run:
    return run([binary, "--config-file", config, "--output", "json", *target], timeout=300)


@pytest.mark.slow
def test_checkov_passes_deploy(checkov_binary):
    """Secrets in every file under deploy/; the Dockerfile checks on the project's image
    with no exception, and on the offline stand-ins with the exceptions named (and
    justified) in .checkov.standins.yaml."""
    secrets = run_checkov(checkov_binary, CHECKOV_CONFIG, "--framework", "secrets", "-d", DEPLOY)
    assert secrets.returncode == 0, secrets.explain()
    assert "secrets" not in checkov_reports(secrets), secrets.explain()

    everything = dockerfiles()
    standins = [path for path in everything if path.is_relative_to(STANDINS)]
    groups = [(CHECKOV_CONFIG, [path for path in everything if path not in standins])]
    if standins:
        groups.append((CHECKOV_STANDINS_CONFIG, standins))
    for config, files in groups:
        done = run_checkov(checkov_binary, config, "--framework", "dockerfile", "-f", *files)
        assert done.returncode == 0, done.explain()
        summary = checkov_reports(done)["dockerfile"]["summary"]
        assert summary["resource_count"] == len(files), done.explain()
        assert summary["passed"] > 0
        assert summary["failed"] == summary["parsing_errors"] == 0, done.explain()


@pytest.mark.slow
def test_checkov_fails_a_root_user_add_and_a_key(checkov_binary, tmp_path):
    (tmp_path / "Dockerfile").write_text(BAD_DOCKERFILE)
    done = run_checkov(checkov_binary, CHECKOV_CONFIG, "-d", tmp_path)
    assert done.returncode == 1, done.explain()
    reports = checkov_reports(done)
    # the last USER is root; ADD instead of COPY
    assert {"CKV_DOCKER_8", "CKV_DOCKER_4"} <= failed_checks(reports["dockerfile"])
    assert "CKV_SECRET_2" in failed_checks(reports["secrets"])  # an AWS access key


# trivy


def trivy_config(target: Path, cache: Path) -> Run:
    command: list[str | Path] = [tool("trivy"), "config", *trivy_offline_flags(fs=False)]
    command += ["--ignorefile", TRIVY_IGNORE, "--severity", "HIGH,CRITICAL", "--exit-code", "1"]
    return run([*command, "--format", "json", target], env=trivy_env(cache), timeout=300)


def trivy_results(done: Run) -> dict[str, dict[str, Any]]:
    return {result["Target"]: result for result in json.loads(done.stdout).get("Results", [])}


def test_trivy_config_finds_nothing_high_in_deploy(tmp_path):
    done = trivy_config(DEPLOY, tmp_path / "cache")
    assert done.returncode == 0, done.explain()
    results = trivy_results(done)
    # every Dockerfile was scanned by the embedded checks
    assert {str(path.relative_to(DEPLOY)) for path in dockerfiles()} <= set(results)
    for target, result in results.items():
        assert result["MisconfSummary"]["Successes"] > 0, target
        assert result["MisconfSummary"]["Failures"] == 0, target


def test_trivy_config_fails_a_root_user(tmp_path):
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "Dockerfile").write_text(BAD_DOCKERFILE)
    done = trivy_config(tmp_path / "image", tmp_path / "cache")
    assert done.returncode == 1, done.explain()
    found = trivy_results(done)["Dockerfile"]["Misconfigurations"]
    assert "DS-0002" in {finding["ID"] for finding in found}  # image user should not be root


def trivy_secrets(target: Path, cache: Path) -> Run:
    command: list[str | Path] = [
        tool("trivy"),
        "fs",
        "--scanners",
        "secret",
        *trivy_offline_flags(fs=True),
    ]
    command += ["--secret-config", TRIVY_SECRET_CONFIG, "--skip-dirs", ",".join(LOCAL_STATE)]
    command += ["--exit-code", "1", "--format", "json", target]
    return run(command, env=trivy_env(cache), timeout=300)


def test_trivy_finds_no_secret_in_the_repository(tmp_path):
    done = trivy_secrets(ROOT, tmp_path / "cache")
    assert done.returncode == 0, done.explain()
    assert not [r for r in trivy_results(done).values() if r.get("Secrets")], done.explain()


def test_trivy_finds_a_telegram_token_in_tests_and_a_token_in_docs(tmp_path):
    """Where trivy looks by default no more: a test file and a Markdown page."""
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_bot.py").write_text(f'TOKEN = "{FAKE_TELEGRAM_TOKEN}"\n')
    (tree / "docs").mkdir()
    (tree / "docs" / "setup.md").write_text(f"Set `GITHUB_TOKEN={FAKE_GITHUB_TOKEN}`.\n")
    done = trivy_secrets(tree, tmp_path / "cache")
    assert done.returncode == 1, done.explain()
    found = {
        target: {secret["RuleID"] for secret in result.get("Secrets", [])}
        for target, result in trivy_results(done).items()
    }
    assert found["tests/test_bot.py"] == {"telegram-bot-token"}
    assert found["docs/setup.md"] == {"github-pat"}


# detect-secrets


def detect_secrets_hook(workdir: Path, files: list[str] | list[Path]) -> Run:
    """detect-secrets' pre-commit hook against a copy of the committed baseline in
    `workdir` (the hook rewrites its baseline when line numbers moved: the repository's
    must not change under a test)."""
    copy = workdir / "secrets.baseline"
    shutil.copyfile(SECRETS_BASELINE, copy)
    command = [tool("detect-secrets-hook"), "--no-verify", "--baseline", copy, *files]
    return run(command, timeout=300)


def test_every_baselined_secret_was_audited_a_false_positive():
    """Each entry of .secrets.baseline is a test key, a placeholder or a public test vector
    (docs/deployment.md#checks); a real secret is removed and rotated, never baselined."""
    baseline = json.loads(SECRETS_BASELINE.read_text())
    plugins = {plugin["name"] for plugin in baseline["plugins_used"]}
    assert "TelegramBotTokenDetector" in plugins
    entries = [entry for found in baseline["results"].values() for entry in found]
    assert entries
    unaudited = [entry for entry in entries if entry.get("is_secret") is not False]
    assert not unaudited, unaudited


@pytest.mark.slow
def test_no_secret_beyond_the_baseline_in_the_repository(tmp_path):
    files = git_files()
    assert ".secrets.baseline" in files
    done = detect_secrets_hook(tmp_path, files)
    # 3: nothing new, but the copy's line numbers were brought up to date
    assert done.returncode in {0, 3}, done.explain()


def test_detect_secrets_fails_a_telegram_token(tmp_path):
    leak = tmp_path / "settings.env"
    leak.write_text(f"BOT_TOKEN={FAKE_TELEGRAM_TOKEN}\n")
    done = detect_secrets_hook(tmp_path, [leak])
    assert done.returncode == 1, done.explain()
    assert "Telegram Bot Token" in done.stdout
