"""deploy/cloudflare: the templates the design document names route PRODUCTION_DOMAIN to
nginx with a catch-all 404, and git ignores the real credential files (a real
`git check-ignore`, so a change to .gitignore that would commit them fails here)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLOUDFLARE = ROOT / "deploy" / "cloudflare"

REAL_FILES = [
    "deploy/cloudflare/cloudflared.json",
    "deploy/cloudflare/cloudflared-credentials.json",
    "deploy/cloudflare/cloudflared-cert.pem",
    "deploy/compose/.env",
    "deploy/compose/secrets/telegram_token",
    "deploy/compose/secrets/database_url",
]
TEMPLATES = [
    "deploy/cloudflare/cloudflared.json.example",
    "deploy/cloudflare/cloudflared-credentials.json.example",
    "deploy/cloudflare/config.yml",
    "deploy/compose/.env.example",
    "deploy/compose/secrets/README.md",
]


def check_ignore(path: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "-q", path],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode in {0, 1}, done.stderr
    return done.returncode == 0


@pytest.mark.subprocess
@pytest.mark.parametrize("path", REAL_FILES)
def test_git_ignores_the_real_credentials(path):
    assert check_ignore(path)


@pytest.mark.subprocess
@pytest.mark.parametrize("path", TEMPLATES)
def test_git_keeps_the_templates(path):
    assert (ROOT / path).is_file()
    assert not check_ignore(path)


def ingress_rules(document: dict) -> list[dict]:
    rules: list[dict] = document["ingress"]
    return rules


@pytest.mark.parametrize(
    ("name", "host"),
    [("config.yml", "${PRODUCTION_DOMAIN}"), ("cloudflared.json.example", "shop.example.com")],
)
def test_ingress_sends_the_domain_to_nginx_and_everything_else_404(name, host):
    text = (CLOUDFLARE / name).read_text(encoding="utf-8")
    document = json.loads(text) if name.endswith(".example") else yaml.safe_load(text)
    rules = ingress_rules(document)
    assert rules[0]["hostname"] == host
    assert rules[0]["service"] == "http://nginx:80"
    # cloudflared requires the last rule to match everything (no hostname, no path)
    assert rules[-1] == {"service": "http_status:404"}
    assert all("hostname" in rule for rule in rules[:-1])
    assert document["credentials-file"].endswith("/cloudflared-credentials.json")


def test_the_credentials_template_holds_no_secret():
    document = json.loads((CLOUDFLARE / "cloudflared-credentials.json.example").read_text())
    assert set(document) == {"AccountTag", "TunnelSecret", "TunnelID"}
    assert document["TunnelSecret"].startswith("<")
    assert document["AccountTag"].startswith("<")
