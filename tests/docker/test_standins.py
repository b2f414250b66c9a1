"""Each offline stand-in (deploy/images/) honours the part of its official image's interface
that the Compose files use: the same user ids, entrypoint behaviour, environment variables
and paths. Run against a pulled official image, these tests pass too: they state the
official behaviour, not the stand-in's."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import asyncpg
import pytest
import redis

from tests.docker.containers import Container, Containers, DockerError, wait_until
from tests.docker.fixtures import BUILD_STANDINS

pytestmark = pytest.mark.usefixtures("standin_images")

PG_IMAGE = "postgres:15"
REDIS_IMAGE = "redis:7.0"
NGINX_IMAGE = "nginx:1.22"
PROMETHEUS_IMAGE = "prom/prometheus:v2.42.0"
ALERTMANAGER_IMAGE = "prom/alertmanager:v0.25.0"
ALERTMANAGER_DIR = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager"
PYTHON_IMAGE = "python:3.11-slim-bookworm"


def http_get(url: str, timeout: float = 5) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a GET; an HTTP error status is returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def answers(url: str) -> bool:
    try:
        return http_get(url, timeout=2)[0] == 200
    except OSError:
        return False


def wait_answers(container: Container, url: str, timeout: float = 30) -> None:
    """Waits for URL to answer 200; TimeoutError with the container's logs if it does not."""
    try:
        wait_until(lambda: answers(url), timeout, f"{url} answers 200")
    except TimeoutError as error:
        raise TimeoutError(f"{error}\n{container.logs()}") from None


def test_rerun_with_unchanged_inputs_builds_nothing() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [str(BUILD_STANDINS)], capture_output=True, text=True, timeout=300, check=True
    )
    elapsed = time.monotonic() - started
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line[:1] not in "t"]
    actions = {row[0]: row[1] for row in rows}
    assert set(actions) >= {PG_IMAGE, REDIS_IMAGE, NGINX_IMAGE, PROMETHEUS_IMAGE, PYTHON_IMAGE}
    # "official" where the real image was pulled on this machine earlier.
    assert set(actions.values()) <= {"reused", "official"}, done.stdout
    assert elapsed < 30, f"a rerun that builds nothing took {elapsed:.1f} s"


async def test_postgres_initialises_once_as_uid_999(containers: Containers, tmp_path: Path) -> None:
    init = tmp_path / "initdb"
    init.mkdir()
    # The .sql runs in POSTGRES_DB as POSTGRES_USER; the .sh logs each run it is given.
    (init / "10-schema.sql").write_text(
        "CREATE TABLE init_runs (at timestamptz NOT NULL DEFAULT now());\n"
    )
    (init / "20-count.sh").write_text(
        "#!/bin/sh\nset -e\n"
        'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" '
        "-c 'INSERT INTO init_runs DEFAULT VALUES'\n"
    )
    (init / "20-count.sh").chmod(0o755)
    (init / "README.txt").write_text("not a script: ignored\n")
    password = "stand-in-password"
    volume = containers.volume()
    db = containers.create(
        PG_IMAGE,
        env={"POSTGRES_PASSWORD": password, "POSTGRES_USER": "shop", "POSTGRES_DB": "shopdb"},
        publish=[5432],
        options=["--volume", f"{volume}:/var/lib/postgresql/data"],
    )
    db.copy_in(f"{init}/.", "/docker-entrypoint-initdb.d/")
    db.start()
    db.wait_for_log("PostgreSQL init process complete", timeout=60)
    wait_until(lambda: _pg_ready(db.name), 30, "pg_isready")

    uids = db.process_uids("postgres")
    assert uids, "no postgres process found"
    assert set(uids) == {999}
    assert db.exec("id", "-u", "postgres").strip() == "999"
    # Over TCP from outside the container, with the password: listens on every address and
    # the host rule asks for the password (scram-sha-256).
    url = f"postgresql://shop:{password}@127.0.0.1:{db.host_port(5432)}/shopdb"
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT current_user") == "shop"
        assert await connection.fetchval("SELECT count(*) FROM init_runs") == 1
        assert await connection.fetchval("SHOW password_encryption") == "scram-sha-256"
    finally:
        await connection.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(url.replace(password, "wrong"))

    # A restart finds PG_VERSION in the data directory and runs no init script again.
    db.stop()
    db.start()
    wait_until(lambda: _pg_ready(db.name), 30, "pg_isready after the restart")
    assert "skipping initiali" in db.logs().lower()
    runs = db.exec("psql", "-U", "shop", "-d", "shopdb", "-Atc", "SELECT count(*) FROM init_runs")
    assert runs.strip() == "1"


def _pg_ready(name: str) -> bool:
    done = subprocess.run(
        ["docker", "exec", name, "pg_isready", "-q"], capture_output=True, check=False
    )
    return done.returncode == 0


def test_postgres_refuses_to_initialise_without_a_password(containers: Containers) -> None:
    done = containers.run_once(PG_IMAGE, timeout=60)
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr


async def test_postgres_password_from_a_secret_file(containers: Containers, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-a-file\n")
    db = containers.create(PG_IMAGE, env={"POSTGRES_PASSWORD_FILE": "/run/pw"}, publish=[5432])
    db.copy_in(str(tmp_path / "pw"), "/run/pw")
    db.start()
    db.wait_for_log("PostgreSQL init process complete", timeout=60)
    wait_until(lambda: _pg_ready(db.name), 30, "pg_isready")
    # The password is the file's first line; `postgres` is POSTGRES_USER's default.
    url = f"postgresql://postgres:from-a-file@127.0.0.1:{db.host_port(5432)}/postgres"
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT current_user") == "postgres"
    finally:
        await connection.close()
    assert "from-a-file" not in db.logs()


def test_redis_option_arguments_start_redis_server_as_999(containers: Containers) -> None:
    node = containers.run(REDIS_IMAGE, "--appendonly", "yes", publish=[6379])
    wait_until(lambda: _pong(node), 20, "redis PONG")
    assert node.process_uids("redis-server") == [999]
    assert node.exec("redis-cli", "config", "get", "dir").split()[1] == "/data"
    assert node.exec("redis-cli", "config", "get", "appendonly").split()[1] == "yes"
    # From the host the client is not on the container's loopback: protected mode (off in
    # the official image) would refuse it.
    client = redis.Redis(host="127.0.0.1", port=node.host_port(6379), socket_timeout=5)
    try:
        assert client.ping() is True
        assert client.config_get("protected-mode") == {"protected-mode": "no"}
    finally:
        client.close()


def _pong(node: Container) -> bool:
    # Until the server listens, redis-cli exits non-zero ("Could not connect").
    try:
        return "PONG" in node.exec("redis-cli", "ping")
    except DockerError:
        return False


def test_redis_keeps_a_protected_mode_the_arguments_set(containers: Containers) -> None:
    node = containers.run(REDIS_IMAGE, "--protected-mode", "yes")
    wait_until(lambda: _pong(node), 20, "redis PONG")
    assert node.exec("redis-cli", "config", "get", "protected-mode").split()[1] == "yes"


def test_redis_other_commands_run_as_given(containers: Containers) -> None:
    done = containers.run_once(REDIS_IMAGE, "redis-cli", "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("redis-cli 7.0")


def test_nginx_renders_defined_variables_only_and_serves(
    containers: Containers, tmp_path: Path
) -> None:
    template = tmp_path / "site.conf.template"
    template.write_text(
        "server {\n"
        "    listen 8080;\n"
        "    location / {\n"
        '        add_header X-Domain "${PRODUCTION_DOMAIN}" always;\n'
        '        return 200 "host=$host method=${request_method}\\n";\n'
        "    }\n"
        "}\n"
    )
    web = containers.create(
        NGINX_IMAGE, env={"PRODUCTION_DOMAIN": "shop.example.test"}, publish=[8080]
    )
    # The image has no /etc/nginx/templates: `docker cp` of a folder creates it.
    web.copy_in(str(tmp_path), "/etc/nginx/templates")
    web.start()
    url = f"http://127.0.0.1:{web.host_port(8080)}/"
    wait_answers(web, url)

    rendered = web.exec("cat", "/etc/nginx/conf.d/site.conf")
    assert 'add_header X-Domain "shop.example.test" always;' in rendered
    # Names not defined in the environment (nginx's own variables, in either form) stay.
    assert "host=$host method=${request_method}" in rendered
    status, headers, body = http_get(url)
    assert status == 200
    assert headers["X-Domain"] == "shop.example.test"
    assert body == "host=127.0.0.1 method=GET\n"

    uids = web.process_uids("nginx")
    assert 0 in uids, "the master runs as root"
    assert set(uids) - {0} == {101}, f"workers run as nginx (101): {uids}"
    config = web.inspect()["Config"]
    assert config["StopSignal"] == "SIGQUIT"
    assert config["Cmd"] == ["nginx", "-g", "daemon off;"]
    # Logs go to the container's output.
    wait_until(lambda: '"GET / HTTP/1.1" 200' in web.logs(), 10, "access log line")


def test_nginx_default_server_on_a_read_only_root(containers: Containers) -> None:
    # The official image runs read-only with tmpfs on its cache and pid folders; Debian's
    # build keeps temporary files elsewhere (/var/lib/nginx), so this proves nginx.conf
    # moved them.
    web = containers.run(
        NGINX_IMAGE,
        publish=[80],
        options=["--read-only", "--tmpfs", "/var/cache/nginx", "--tmpfs", "/var/run"],
    )
    url = f"http://127.0.0.1:{web.host_port(80)}/"
    wait_answers(web, url)
    assert "nginx" in http_get(url)[2].lower()
    assert "syntax is ok" in containers.run_once(NGINX_IMAGE, "nginx", "-t").stderr


def test_prometheus_is_ready_as_nobody(containers: Containers) -> None:
    prometheus = containers.run(PROMETHEUS_IMAGE, publish=[9090])
    base = f"http://127.0.0.1:{prometheus.host_port(9090)}"
    wait_answers(prometheus, f"{base}/-/ready")
    assert prometheus.process_uids("prometheus") == [65534]
    config = prometheus.inspect()["Config"]
    assert config["WorkingDir"] == "/prometheus"
    assert config["Entrypoint"] == ["/bin/prometheus"]
    assert "--storage.tsdb.path=/prometheus" in config["Cmd"]
    # The default configuration scrapes Prometheus itself.
    wait_until(
        lambda: (
            '"scrapeUrl":"http://localhost:9090/metrics"' in http_get(f"{base}/api/v1/targets")[2]
        ),
        10,
        "the self-scrape target",
    )
    check = prometheus.exec("/bin/promtool", "check", "config", "/etc/prometheus/prometheus.yml")
    assert "SUCCESS" in check
    # Health checks in Compose call wget, as busybox's in the official image.
    assert "Prometheus" in prometheus.exec("wget", "-qO-", "http://127.0.0.1:9090/-/healthy")


def test_alertmanager_is_ready_as_nobody(containers: Containers) -> None:
    alertmanager = containers.run(ALERTMANAGER_IMAGE, publish=[9093])
    base = f"http://127.0.0.1:{alertmanager.host_port(9093)}"
    wait_answers(alertmanager, f"{base}/-/ready")
    assert alertmanager.process_uids("alertmanager") == [65534]
    config = alertmanager.inspect()["Config"]
    assert config["WorkingDir"] == "/alertmanager"
    assert config["Entrypoint"] == ["/bin/alertmanager"]
    assert config["Cmd"] == [
        "--config.file=/etc/alertmanager/alertmanager.yml",
        "--storage.path=/alertmanager",
    ]
    check = alertmanager.exec("/bin/amtool", "check-config", "/etc/alertmanager/alertmanager.yml")
    assert "SUCCESS" in check
    # Health checks in Compose call wget, as busybox's in the official image.
    assert "OK" in alertmanager.exec("wget", "-qO-", "http://127.0.0.1:9093/-/healthy")


def test_alertmanager_runs_the_project_configuration_read_only(
    containers: Containers, tmp_path: Path
) -> None:
    """As compose.production.yaml runs it: deploy/alertmanager mounted read-only over
    /etc/alertmanager, the secrets as files under /run/secrets, a read-only root."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in (
        "alertmanager_slack_alerts_url",
        "alertmanager_slack_deployments_url",
        "alertmanager_pagerduty_routing_key",
        "alertmanager_smtp_password",
    ):
        (secrets / name).write_text("http://127.0.0.1:9/unused\n")
        (secrets / name).chmod(0o444)
    secrets.chmod(0o755)
    alertmanager = containers.run(
        ALERTMANAGER_IMAGE,
        "--config.file=/etc/alertmanager/alertmanager.yml",
        "--storage.path=/alertmanager",
        "--cluster.listen-address=",
        publish=[9093],
        options=[
            "--read-only",
            "--volume", f"{ALERTMANAGER_DIR}:/etc/alertmanager:ro",
            "--volume", f"{secrets}:/run/secrets:ro",
        ],
    )  # fmt: skip
    base = f"http://127.0.0.1:{alertmanager.host_port(9093)}"
    wait_answers(alertmanager, f"{base}/-/ready")
    status = http_get(f"{base}/api/v2/status")[2]
    for receiver in ("pagerduty", "email-oncall", "slack-alerts", "slack-deployments"):
        assert receiver in status
    check = alertmanager.exec("/bin/amtool", "check-config", "/etc/alertmanager/alertmanager.yml")
    assert "4 receivers" in check


def test_python_has_python311_venv_and_pip(containers: Containers) -> None:
    script = (
        "set -e; for c in python python3 pip; do command -v $c; done;"
        " python -c 'import sys; print(sys.version_info[:2])';"
        " python3 -m venv /tmp/venv; /tmp/venv/bin/pip --version; echo LANG=$LANG"
    )
    done = containers.run_once(PYTHON_IMAGE, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["/usr/local/bin/python", "/usr/local/bin/python3", "/usr/local/bin/pip"]
    assert lines[3] == "(3, 11)"
    assert lines[4].startswith("pip ")
    assert "/tmp/venv/" in lines[4]
    assert lines[5] == "LANG=C.UTF-8"
    config = containers.run_once(PYTHON_IMAGE, "python3", "-c", "print('cmd ok')")
    assert config.stdout.strip() == "cmd ok"
