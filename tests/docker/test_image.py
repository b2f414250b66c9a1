"""The project image (deploy/docker/Dockerfile), built by `make image` and run for real:
a numeric non-root user, no .env, secret, test or git file in any layer (.dockerignore
proven on a context seeded with them), the HEALTHCHECK and OCI labels, and `shopbot db
upgrade` against a PostgreSQL 15 container on a private network."""

from __future__ import annotations

import json
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.docker, pytest.mark.subprocess]


def run(
    *command: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def image(project_image: str) -> str:
    return project_image


def inspect(image: str) -> dict:
    result: dict = json.loads(run("docker", "image", "inspect", image).stdout)[0]
    return result


def test_runs_as_a_numeric_non_root_user(image):
    assert inspect(image)["Config"]["User"] == "10001:10001"
    assert run("docker", "run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip() == "10001"


def test_entrypoint_is_shopbot_and_prints_its_version(image):
    config = inspect(image)["Config"]
    assert config["Entrypoint"] == ["shopbot"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = run("docker", "run", "--rm", "--read-only", image, "--version")
    assert version in done.stdout


def test_healthcheck_asks_the_readiness_endpoint(image):
    check = inspect(image)["Config"]["Healthcheck"]
    assert check["Test"] == ["CMD", "shopbot", "healthcheck"]
    assert check["Interval"] > 0
    assert check["Timeout"] > 0
    assert check["StartPeriod"] > 0


CHART_PROBE = """
import struct, sys
from datetime import date, timedelta
from decimal import Decimal
from shopbot.bot.stats_chart import ChartLabels, ChartSeries, render_png
days = tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(30))
series = ChartSeries(days, tuple(Decimal(n).scaleb(-1) for n in range(30)), (1,) * 30)
png = render_png(series, ChartLabels("Выручка", "Выручка, USD", "Заказы"))
assert png[1:4] == b"PNG", png[:8]
print(*struct.unpack(">II", png[16:24]))
"""


def test_the_stats_chart_renders_on_a_read_only_root(image):
    """matplotlib came from wheels and works as the bot runs: read-only root, /tmp a
    tmpfs, its font cache in MPLCONFIGDIR there (no "created a temporary cache
    directory" warning)."""
    done = run(
        *("docker", "run", "--rm", "--read-only", "--tmpfs", "/tmp:size=16m"),
        *("--entrypoint", "python", image, "-c", CHART_PROBE),
    )
    assert done.stdout.split() == ["1200", "675"]
    assert "temporary cache directory" not in done.stderr
    assert "Traceback" not in done.stderr


def test_labels_carry_version_and_git_revision(image):
    labels = inspect(image)["Config"]["Labels"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    revision = run("git", "-C", str(ROOT), "rev-parse", "HEAD").stdout.strip()
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.revision"] == revision
    assert labels["org.opencontainers.image.title"] == "shopbot"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert "org.opencontainers.image.source" in labels


def test_no_env_secret_test_or_git_file_in_the_image(image):
    found = run(
        "docker",
        "run",
        "--rm",
        "--user",
        "0",
        "--entrypoint",
        "sh",
        image,
        "-c",
        # ours: tests and conftest.py of shopbot (the libraries' own test helpers, such as
        # matplotlib.testing, are theirs), .env files, git data, keys in /app, the build tree
        "find / -xdev \\( -name '.env*' -o -name '.git'"
        " -o \\( -name 'tests' -o -name 'conftest.py' \\) -path '*shopbot*'"
        " -o -name 'conftest.py' -not -path '*/site-packages/*'"
        " -o -name '*.pem' -path '/app/*' -o -path '/build*' \\) -print",
    ).stdout.split()
    assert found == []
    history = run("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert "ca-certificates.crt" not in history
    assert "PIP_CERT=/" not in history.replace("PIP_CERT=/run/secrets/ca", "")


def test_dockerignore_admits_only_the_sources(image, tmp_path):
    """The real .dockerignore on a context seeded with what must never reach a layer."""
    (tmp_path / ".dockerignore").write_text((ROOT / ".dockerignore").read_text())
    seeded = [
        ".env",
        ".env.production",
        "tests/test_x.py",
        ".git/config",
        "shopbot.db",
        ".venv/bin/python",
        "deploy/compose/secrets/telegram_token",
        "src/shopbot/.env",
        "src/shopbot/__pycache__/x.pyc",
        "src/shopbot/local.db",
        "key.pem",
    ]
    kept = ["pyproject.toml", "requirements.lock", "README.md", "src/shopbot/__init__.py"]
    for name in seeded + kept:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("canary\n")
    (tmp_path / "Dockerfile.context").write_text(
        f"FROM {image}\nCOPY --chown=10001:10001 . /app/context/\n"
    )
    tag = f"shopbot-context-check:{uuid.uuid4().hex[:8]}"
    run(
        "docker",
        "build",
        "-q",
        "-f",
        str(tmp_path / "Dockerfile.context"),
        "-t",
        tag,
        str(tmp_path),
        timeout=300,
    )
    try:
        listed = run(
            "docker", "run", "--rm", "--entrypoint", "find", tag, "/app/context", "-type", "f"
        ).stdout.split()
    finally:
        run("docker", "rmi", "-f", tag, check=False)
    assert sorted(p.removeprefix("/app/context/") for p in listed) == sorted(kept)


@pytest.fixture
def postgres(image) -> Iterator[tuple[str, str]]:
    """A PostgreSQL 15 container on its own network: (network, DATABASE_URL)."""
    name = f"shopbot-image-test-{uuid.uuid4().hex[:8]}"
    run("docker", "network", "create", name)
    try:
        run(
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--network",
            name,
            "-e",
            "POSTGRES_PASSWORD=pw-Zq81xK",
            "-e",
            "POSTGRES_USER=shopbot",
            "-e",
            "POSTGRES_DB=shopbot",
            "postgres:15",
        )
        deadline = time.monotonic() + 60
        while (
            run(
                "docker",
                "exec",
                name,
                "pg_isready",
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "shopbot",
                check=False,
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                pytest.fail(f"postgres did not start:\n{run('docker', 'logs', name).stderr}")
            time.sleep(0.5)
        yield name, f"postgresql+asyncpg://shopbot:pw-Zq81xK@{name}:5432/shopbot"
    finally:
        run("docker", "rm", "-f", "-v", name, check=False)
        run("docker", "network", "rm", name, check=False)


def test_db_upgrade_migrates_postgres_from_the_image(image, postgres, tmp_path):
    network, url = postgres
    secret = tmp_path / "database_url"
    secret.write_text(url)
    secret.chmod(0o444)
    done = run(
        "docker",
        "run",
        "--rm",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges:true",
        "--network",
        network,
        "-v",
        f"{secret}:/run/secrets/database_url:ro",
        "-e",
        "DATABASE_URL_FILE=/run/secrets/database_url",
        image,
        "db",
        "upgrade",
        timeout=180,
    )
    assert "is at head" in done.stdout
    assert "pw-Zq81xK" not in done.stdout + done.stderr  # the password is masked
    tables = run(
        "docker",
        "exec",
        network,
        "psql",
        "-U",
        "shopbot",
        "-d",
        "shopbot",
        "-Atc",
        "select version_num from alembic_version",
    ).stdout.strip()
    assert tables
