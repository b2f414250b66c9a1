"""A whole environment of deploy/compose brought up for real with the project image, plus
the emulators (compose.emulators.yaml), under a unique project name; always taken down
with its volumes. Secrets, the TLS chain and the seed are made in a temporary folder."""

from __future__ import annotations

import random
import secrets
import string
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopbot.http.serve import free_port
from tests.docker.containers import ComposeProject
from tests.integration.cli.harness import CATALOG  # the same shop as the CLI tests

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_DIR = ROOT / "deploy" / "compose"
EMULATORS = Path(__file__).with_name("compose.emulators.yaml")
OVERLAYS = {
    "staging": ["compose.yaml", "compose.staging.yaml"],
    "production": ["compose.yaml", "compose.staging.yaml", "compose.production.yaml"],
}
# No stand-in can exist offline for these (TOOLING.md): checked statically instead.
NOT_RUNNABLE_HERE = {"grafana", "cloudflared"}
DOMAIN = "shop.test"
BOT_ID = 700000042
MERCHANT = "live-merchant"
UP_TIMEOUT = 600  # seconds; the production stack on a loaded 2-core machine
STOCK = ["LIVE-7F3K-Q9PX-2WLM", "LIVE-B4TN-X8RD-6JCV"]


def _token(length: int = 40) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _tls_chain(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA and a server certificate for DOMAIN signed by it (openssl CLI):
    returns (folder with ca.pem for the emulators, folder with fullchain.pem + privkey.pem
    for nginx)."""
    ca_dir, cert_dir = folder / "ca", folder / "certs"
    ca_dir.mkdir()
    cert_dir.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=shopbot live test CA", "-keyout", str(folder / "ca.key"),
            "-out", str(ca_dir / "ca.pem"))  # fmt: skip
    key, csr = str(cert_dir / "privkey.pem"), str(folder / "server.csr")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={DOMAIN}",
            "-keyout", key, "-out", csr)  # fmt: skip
    (folder / "san.ext").write_text(f"subjectAltName=DNS:{DOMAIN}\n")
    chain = str(cert_dir / "fullchain.pem")
    openssl("x509", "-req", "-in", csr, "-CA", str(ca_dir / "ca.pem"),
            "-CAkey", str(folder / "ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", str(folder / "san.ext"), "-out", chain)  # fmt: skip
    for path in (*ca_dir.iterdir(), *cert_dir.iterdir()):
        path.chmod(0o444)  # nginx reads the key as root; the emulators as their user
    return ca_dir, cert_dir


@dataclass
class LiveStack:
    environment: str
    project: ComposeProject
    seed_dir: Path
    telegram_url: str
    heleket_url: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def env(self) -> Mapping[str, str]:
        return self.project.env

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.project.compose(*args, timeout=timeout, check=check)

    def shopbot(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`shopbot ARGS` in a one-off container of the image, configured like `migrate`,
        with the seed folder at /seed."""
        return self.compose(
            "run", "--rm", "--no-deps", "-T", "-v", f"{self.seed_dir}:/seed:ro",
            "migrate", *args, check=check,
        )  # fmt: skip

    def services(self) -> list[str]:
        names = self.compose("config", "--services").stdout.split()
        return [name for name in names if name not in NOT_RUNNABLE_HERE]

    def containers(self) -> list[dict[str, Any]]:
        return self.project.containers()

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "60", check=False).stdout


@contextmanager
def live_stack(environment: str, image: str, workdir: Path) -> Iterator[LiveStack]:
    """Brings `environment` up with `--wait` (every started service healthy or, for the
    one-shots, completed) and yields it; `down -v` afterwards, whatever happened."""
    ca_dir, cert_dir = _tls_chain(workdir)
    secrets_dir, seed_dir = workdir / "secrets", workdir / "seed"
    secrets_dir.mkdir()
    seed_dir.mkdir()
    seed_dir.chmod(0o755)
    token = f"{BOT_ID}:{_token(35)}"
    api_key, payout_key, pg_password = _token(), _token(), _token(24)
    values = {
        "telegram_token": token,
        "telegram_webhook_secret": _token(32),
        "heleket_api_key": api_key,
        "heleket_payout_key": payout_key,
        "postgres_password": pg_password,
        "postgres_replication_password": _token(24),
        "postgres_monitoring_password": _token(24),
        "database_url": f"postgresql+asyncpg://shopbot:{pg_password}@db:5432/shopbot",
        "database_replica_urls": ",".join(
            f"postgresql+asyncpg://shopbot:{pg_password}@db-replica-{n}:5432/shopbot"
            for n in (1, 2)
        ),
        "grafana_admin_password": _token(16),
        "cloudflare_tunnel_token": _token(),
        # the receivers point nowhere reachable: the live stack sends no notice out
        "alertmanager_slack_alerts_url": "http://127.0.0.1:9/slack",
        "alertmanager_slack_deployments_url": "http://127.0.0.1:9/slack",
        "alertmanager_pagerduty_routing_key": _token(32),
        "alertmanager_smtp_password": _token(16),
    }
    for name, value in values.items():
        (secrets_dir / name).write_text(value + "\n")
        (secrets_dir / name).chmod(0o444)
    (seed_dir / "catalog.yaml").write_text(CATALOG)
    (seed_dir / "stock.txt").write_text("\n".join(STOCK) + "\n")
    for path in seed_dir.iterdir():
        path.chmod(0o444)

    prefix = f"10.213.{random.randint(1, 250)}"
    telegram_port, heleket_port = free_port(), free_port()
    env = {
        "SHOPBOT_IMAGE": image,
        "SHOPBOT_SECRETS_DIR": str(secrets_dir),
        "PRODUCTION_DOMAIN": DOMAIN,
        "TLS_CERT_DIR": str(cert_dir),
        "HTTP_PORT": f"127.0.0.1:{free_port()}",
        "HTTPS_PORT": f"127.0.0.1:{free_port()}",
        "ADMIN_IDS": "",
        "TELEGRAM_API_URL": "http://telegram-api:8081",
        "HELEKET_API_URL": "http://heleket-api:8090",
        "HELEKET_MERCHANT_ID": MERCHANT,
        "HELEKET_ALLOWED_IPS": f"{prefix}.251",
        # The emulators sit inside bot-network (the real Heleket does not): only the lower
        # half, where Docker puts nginx and the rest, is a trusted proxy.
        "TRUSTED_PROXIES": f"{prefix}.0/25",
        "LIVE_BOT_TOKEN": token,
        "LIVE_HELEKET_API_KEY": api_key,
        "LIVE_HELEKET_PAYOUT_KEY": payout_key,
        "LIVE_CA_DIR": str(ca_dir),
        "LIVE_CERT_DIR": str(cert_dir),
        "LIVE_SUBNET_PREFIX": prefix,
        "LIVE_TELEGRAM_PORT": str(telegram_port),
        "LIVE_HELEKET_PORT": str(heleket_port),
    }
    files = [COMPOSE_DIR / name for name in OVERLAYS[environment]] + [EMULATORS]
    project = ComposeProject(files, f"shopbot-live-{environment}-{secrets.token_hex(3)}", env)
    stack = LiveStack(
        environment, project, seed_dir,
        f"http://127.0.0.1:{telegram_port}", f"http://127.0.0.1:{heleket_port}",
    )  # fmt: skip
    try:
        started = time.monotonic()
        stack.compose(
            "up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT), *stack.services(),
            timeout=UP_TIMEOUT + 60,
        )  # fmt: skip
        stack.timings["up_to_healthy"] = time.monotonic() - started
        yield stack
    except Exception as failure:
        failure.add_note(f"--- the stack's logs ---\n{stack.logs()}")
        raise
    finally:
        stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "20",
                      timeout=300, check=False)  # fmt: skip
