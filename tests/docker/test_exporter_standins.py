"""The exporters' offline stand-ins (deploy/images/*-exporter) honour what
compose.production.yaml uses of the official images: the entrypoint, the user, the port,
the flags and environment variables it passes, and each exports its server's metrics
(node_exporter the host's; postgres_exporter through the pg_monitor role that
deploy/postgres/primary-init.sh creates, with deploy/prometheus/exporters' queries;
redis_exporter in multi-target mode; nginx-prometheus-exporter from stub_status).

The official redis_exporter and nginx-prometheus-exporter images are FROM scratch (no
shell), so the users are read from the host (`docker top`), never from inside: these
tests pass against the official images too."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.docker.containers import Container, Containers, docker, wait_until

pytestmark = pytest.mark.usefixtures("standin_images")

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "deploy" / "prometheus" / "exporters" / "postgres-queries.yaml"
PRIMARY_INIT = ROOT / "deploy" / "postgres" / "primary-init.sh"


def metrics(url: str) -> str:
    """The body of GET url, or "" while it does not answer 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except (OSError, urllib.error.HTTPError):
        return ""


def wait_for_sample(container: Container, url: str, sample: str, timeout: float = 60) -> str:
    """Waits until GET url holds the line `sample`; returns the body. TimeoutError with the
    container's logs otherwise."""
    try:
        wait_until(lambda: sample in metrics(url).splitlines(), timeout, f"{sample} at {url}")
    except TimeoutError as error:
        raise TimeoutError(f"{error}\n{container.logs()}") from None
    return metrics(url)


def sample(body: str, prefix: str) -> str:
    """The value of the first sample whose line starts with `prefix`."""
    line = next(line for line in body.splitlines() if line.startswith(prefix))
    return line.rsplit(" ", 1)[1]


def uids(container: Container) -> set[int]:
    """The real uids of the container's processes, as the host sees them."""
    rows = docker("top", container.name, "-eo", "pid,uid").stdout.splitlines()[1:]
    return {int(row.split()[1]) for row in rows}


def config(container: Container) -> dict[str, object]:
    result: dict[str, object] = container.inspect()["Config"]
    return result


def test_node_exporter_exports_the_hosts_counters(containers: Containers) -> None:
    node = containers.run(
        "prom/node-exporter:v1.5.0",
        "--path.rootfs=/host",
        publish=[9100],
        options=["--pid", "host", "--read-only", "--volume", "/:/host:ro"],
    )
    url = f"http://127.0.0.1:{node.host_port(9100)}/metrics"
    body = wait_for_sample(node, url, 'node_scrape_collector_success{collector="meminfo"} 1')
    assert config(node)["Entrypoint"] == ["/bin/node_exporter"]
    assert uids(node) == {65534}
    # the host's memory (the rootfs path serves the filesystem collector)
    assert float(sample(body, "node_memory_MemTotal_bytes")) > 0
    assert 'mountpoint="/"' in body


def test_postgres_exporter_reads_through_the_monitoring_role(
    containers: Containers, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("postgres_password", "replication", "monitoring"):
        (secrets / name).write_text(f"{name}-pw-1\n")
        (secrets / name).chmod(0o444)
    network = containers.network()
    db = containers.run(
        "postgres:15",
        env={
            "POSTGRES_USER": "shopbot",
            "POSTGRES_DB": "shopbot",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres_password",
            "POSTGRES_REPLICATION_PASSWORD_FILE": "/run/secrets/replication",
            "POSTGRES_MONITORING_PASSWORD_FILE": "/run/secrets/monitoring",
        },
        options=[
            "--network", network, "--network-alias", "db",
            "--volume", f"{secrets}:/run/secrets:ro",
            "--volume", f"{PRIMARY_INIT}:/docker-entrypoint-initdb.d/10-replication.sh:ro",
        ],
    )  # fmt: skip
    db.wait_for_log("PostgreSQL init process complete", timeout=90)
    exporter = containers.run(
        "prometheuscommunity/postgres-exporter:v0.11.1",
        "--extend.query-path=/etc/postgres_exporter/queries.yaml",
        env={
            "DATA_SOURCE_URI": "db:5432/shopbot?sslmode=disable",
            "DATA_SOURCE_USER": "monitoring",
            "DATA_SOURCE_PASS_FILE": "/run/secrets/monitoring",
        },
        publish=[9187],
        options=[
            "--network", network, "--read-only",
            "--volume", f"{secrets}:/run/secrets:ro",
            "--volume", f"{QUERIES}:/etc/postgres_exporter/queries.yaml:ro",
        ],
    )  # fmt: skip
    url = f"http://127.0.0.1:{exporter.host_port(9187)}/metrics"
    body = wait_for_sample(exporter, url, "pg_up 1")
    assert config(exporter)["Entrypoint"] == ["/bin/postgres_exporter"]
    assert uids(exporter) == {65534}
    # the project's query ran without error (no replica here: no pg_replica rows)
    loaded = 'pg_exporter_user_queries_load_error{filename="/etc/postgres_exporter/queries.yaml"'
    assert sample(body, loaded) == "0"
    assert "pg_exporter_last_scrape_error 0" in body
    # the slots primary-init.sh made, inactive (no replica streams here): the alert's input
    for slot in ("replica_1", "replica_2"):
        labels = f'database="",server="db:5432",slot_name="{slot}"'
        assert sample(body, f"pg_replication_slots_active{{{labels}}}") == "0"
    # pg_monitor and nothing more: the role reads statistics, not the shop's tables
    role = db.exec(
        "psql", "-U", "shopbot", "-d", "shopbot", "-Atc",
        "select rolsuper, pg_has_role('monitoring', 'pg_monitor', 'member'),"
        " has_database_privilege('monitoring', 'shopbot', 'create')"
        " from pg_roles where rolname = 'monitoring'",
    ).strip()  # fmt: skip
    assert role == "f|t|f"
    assert "monitoring-pw-1" not in db.logs() + exporter.logs()


def test_redis_exporter_scrapes_the_node_each_request_names(containers: Containers) -> None:
    network = containers.network()
    containers.run("redis:7.0", options=["--network", network, "--network-alias", "redis-a"])
    exporter = containers.run(
        "oliver006/redis_exporter:v1.45.0",
        env={"REDIS_ADDR": ""},
        publish=[9121],
        options=["--network", network, "--read-only"],
    )
    base = f"http://127.0.0.1:{exporter.host_port(9121)}"
    wait_for_sample(exporter, f"{base}/scrape?target=redis://redis-a:6379", "redis_up 1")
    assert "redis_up 0" in metrics(f"{base}/scrape?target=redis://nowhere:6379").splitlines()
    # REDIS_ADDR empty: /metrics is the exporter's own, no node is scraped by default
    assert "redis_up" not in metrics(f"{base}/metrics")
    assert config(exporter)["Entrypoint"] == ["/redis_exporter"]
    assert uids(exporter) == {59000}


def test_nginx_exporter_reads_stub_status(containers: Containers, tmp_path: Path) -> None:
    status = tmp_path / "status.conf"
    status.write_text("server { listen 8081; location = /nginx_status { stub_status; } }\n")
    status.chmod(0o444)
    network = containers.network()
    containers.run(
        "nginx:1.22",
        options=[
            "--network", network, "--network-alias", "nginx",
            "--volume", f"{status}:/etc/nginx/conf.d/status.conf:ro",
        ],
    )  # fmt: skip
    exporter = containers.run(
        "nginx/nginx-prometheus-exporter:0.11.0",
        "-nginx.scrape-uri=http://nginx:8081/nginx_status",
        "-nginx.retries=10",
        publish=[9113],
        options=["--network", network, "--read-only"],
    )
    url = f"http://127.0.0.1:{exporter.host_port(9113)}/metrics"
    body = wait_for_sample(exporter, url, "nginx_up 1")
    assert any(line.startswith("nginx_connections_active ") for line in body.splitlines())
    assert config(exporter)["Entrypoint"] == ["/usr/bin/nginx-prometheus-exporter"]
    assert uids(exporter) == {1001}
