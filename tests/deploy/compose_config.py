"""The Compose environments as `docker compose config` renders them (deploy/compose/):
the files each environment combines, the variables a deployment sets, and the resolved
model as JSON. Nothing here needs a Docker engine: `config` only reads files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"

# Environment -> the files combined, in order (docs/deployment.md#environments).
ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "development": ("compose.yaml", "compose.development.yaml"),
    "staging": ("compose.yaml", "compose.staging.yaml"),
    "production": ("compose.yaml", "compose.staging.yaml", "compose.production.yaml"),
}

# Every secret file the environments name; a canary value each, so a test can prove no
# value is rendered into the configuration.
SECRET_FILES = (
    "telegram_token",
    "telegram_webhook_secret",
    "heleket_api_key",
    "heleket_payout_key",
    "postgres_password",
    "database_url",
    "database_replica_urls",
    "postgres_replication_password",
    "postgres_monitoring_password",
    "grafana_admin_password",
    "cloudflare_tunnel_token",
    "alertmanager_slack_alerts_url",
    "alertmanager_slack_deployments_url",
    "alertmanager_pagerduty_routing_key",
    "alertmanager_smtp_password",
)


def canary(name: str) -> str:
    return f"canary-{name}-7f3c9e"


def write_secrets(directory: Path) -> Path:
    """One file per secret in `directory` holding `canary(name)`; returns the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in SECRET_FILES:
        (directory / name).write_text(canary(name), encoding="utf-8")
    return directory


def deployment_variables(secrets_dir: Path, certs_dir: Path) -> dict[str, str]:
    """The variables deploy/compose/.env.example asks a deployment to set."""
    return {
        "PRODUCTION_DOMAIN": "shop.example.test",
        "HELEKET_MERCHANT_ID": "8b03432e-385b-4670-8d06-064591096795",
        "SHOPBOT_SECRETS_DIR": str(secrets_dir),
        "TLS_CERT_DIR": str(certs_dir),
    }


def compose_env(variables: dict[str, str]) -> dict[str, str]:
    """The process environment for `docker compose`: this one without anything that would
    change the rendering (COMPOSE_*, the deployment's variables), plus `variables`."""
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("COMPOSE_") and key not in variables
    }
    return {**keep, **variables}


def render(
    environment: str, variables: dict[str, str], *, profiles: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`docker compose config --format json` for `environment`; not checked."""
    # --env-file: a deploy/compose/.env of the developer's must not change what is tested
    command = ["docker", "compose", "--project-directory", str(COMPOSE_DIR), "-p", "topology"]
    command += ["--env-file", os.devnull]
    for name in ENVIRONMENTS[environment]:
        command += ["-f", str(COMPOSE_DIR / name)]
    for profile in profiles:
        command += ["--profile", profile]
    command += ["config", "--format", "json"]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=compose_env(variables),
    )


def model(
    environment: str, variables: dict[str, str], *, profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The resolved Compose model of `environment`; raises AssertionError with Compose's
    message when rendering fails."""
    done = render(environment, variables, profiles=profiles)
    assert done.returncode == 0, f"docker compose config ({environment}) failed: {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result
