"""The deployment's topology, pinned (deploy/compose/, docs/deployment.md#topology): the
design document's service names and ports per environment, only nginx publishing ports,
a health check on every long-running service, start order by conditions, hardening, and
no secret value anywhere in the rendered configuration. Each environment is rendered by
the real `docker compose config`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose_config import (
    ENVIRONMENTS,
    SECRET_FILES,
    canary,
    deployment_variables,
    model,
    render,
    write_secrets,
)

pytestmark = pytest.mark.subprocess

# The design document's services (shared/seed/README.md, "Containers and networks") and
# the environments' table: which run where.
CORE = {"nginx", "app", "webhook", "migrate"}
CLUSTER = {
    "db",
    "redis-node-1",
    "redis-node-2",
    "redis-node-3",
    "redis-cluster-creator",
    "redis-cluster-monitor",
}
# Prometheus exporters (docs/monitoring.md#exporters)
EXPORTERS = {"node-exporter", "postgres-exporter", "redis-exporter", "nginx-exporter"}
PRODUCTION_ONLY = {
    "db-replica-1",
    "db-replica-2",
    "redis-replica-1",
    "redis-replica-2",
    "redis-replica-3",
    "prometheus",
    "alertmanager",
    "grafana",
    *EXPORTERS,
}
SERVICES = {
    "development": CORE | {"redis"},
    "staging": CORE | CLUSTER,
    "production": CORE | CLUSTER | PRODUCTION_ONLY,
}
APP_REPLICAS = {"development": 1, "staging": 2, "production": 3}
# The document's ports: Redis masters 7379-7381, their replicas next (7382-7384).
REDIS_PORTS = {
    "redis-node-1": 7379,
    "redis-node-2": 7380,
    "redis-node-3": 7381,
    "redis-replica-1": 7382,
    "redis-replica-2": 7383,
    "redis-replica-3": 7384,
}
ONE_SHOT = {"migrate", "redis-cluster-creator"}
SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|SECRET|_KEY)$")
URL_NAME = re.compile(r"_URL$")


@pytest.fixture(scope="module")
def variables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("deployment")
    certs = base / "certs"
    certs.mkdir()
    return deployment_variables(write_secrets(base / "secrets"), certs)


@pytest.fixture(scope="module")
def rendered(variables: dict[str, str]) -> dict[str, dict[str, Any]]:
    models = {name: model(name, variables) for name in ENVIRONMENTS}
    models["production+tunnel"] = model("production", variables, profiles=("tunnel",))
    return models


def services(rendered: dict[str, dict[str, Any]], environment: str) -> dict[str, Any]:
    result: dict[str, Any] = rendered[environment]["services"]
    return result


def command_port(service: dict[str, Any]) -> int:
    command = service["command"]
    return int(command[command.index("--port") + 1])


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_each_environment_runs_the_documents_services(rendered, environment):
    assert set(services(rendered, environment)) == SERVICES[environment]


def test_the_tunnel_is_a_production_profile(rendered):
    with_tunnel = set(services(rendered, "production+tunnel"))
    assert with_tunnel - set(services(rendered, "production")) == {"cloudflared"}
    cloudflared = services(rendered, "production+tunnel")["cloudflared"]
    assert cloudflared["environment"]["TUNNEL_TOKEN_FILE"] == "/run/secrets/cloudflare_tunnel_token"
    assert set(cloudflared["networks"]) == {"dmz"}


@pytest.mark.parametrize("environment", list(APP_REPLICAS))
def test_bot_instances_per_environment(rendered, environment):
    app = services(rendered, environment)["app"]
    assert app["deploy"]["replicas"] == APP_REPLICAS[environment]
    mode = app["environment"]["BOT_MODE"]
    assert mode == ("polling" if environment == "development" else "webhook")


@pytest.mark.parametrize("environment", [*ENVIRONMENTS, "production+tunnel"])
def test_only_nginx_publishes_ports_80_and_443(rendered, environment):
    publishing = {
        name for name, service in services(rendered, environment).items() if service.get("ports")
    }
    assert publishing == {"nginx"}
    targets = {port["target"] for port in services(rendered, environment)["nginx"]["ports"]}
    assert targets == {80, 443}


def test_the_documents_ports(rendered):
    production = services(rendered, "production")
    for name, port in REDIS_PORTS.items():
        assert command_port(production[name]) == port, name
        assert production[name]["environment"]["REDIS_PORT"] == str(port)
    assert production["app"]["command"] == ["bot", "--port", "8080"]
    assert production["webhook"]["environment"]["WEBHOOK_PORT"] == "8001"
    assert command_port(production["redis-cluster-monitor"]) == 9121
    assert "--web.listen-address=:9090" in production["prometheus"]["command"]
    assert "--web.listen-address=:9093" in production["alertmanager"]["command"]
    # node_exporter on Docker's bridge gateway only, which Prometheus maps by name
    assert "--web.listen-address=172.17.0.1:9100" in production["node-exporter"]["command"]
    assert production["prometheus"]["extra_hosts"] in (
        ["host.docker.internal=host-gateway"],
        ["host.docker.internal:host-gateway"],
    )
    seeds = production["app"]["environment"]["REDIS_CLUSTER_NODES"].split(",")
    assert seeds == [f"{name}:{port}" for name, port in REDIS_PORTS.items()]
    staging_seeds = services(rendered, "staging")["app"]["environment"]["REDIS_CLUSTER_NODES"]
    assert staging_seeds == "redis-node-1:7379,redis-node-2:7380,redis-node-3:7381"


def test_the_cluster_tools_name_every_node(rendered):
    for environment, replicas in (("staging", "0"), ("production", "1")):
        every = services(rendered, environment)
        nodes = [f"{name}:{port}" for name, port in REDIS_PORTS.items() if name in every]
        creator = every["redis-cluster-creator"]["command"]
        assert creator[:3] == ["redis", "cluster", "create"]
        assert creator[creator.index("--replicas") + 1] == replicas
        assert creator[-len(nodes) :] == nodes
        monitor = every["redis-cluster-monitor"]["command"]
        assert monitor[:3] == ["redis", "cluster", "monitor"]
        assert monitor[-len(nodes) :] == nodes


@pytest.mark.parametrize("environment", [*ENVIRONMENTS, "production+tunnel"])
def test_every_long_running_service_has_a_health_check(rendered, environment):
    for name, service in services(rendered, environment).items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        if name in EXPORTERS:
            # Prometheus's `up` is their check (InstanceDown): the official images of
            # redis_exporter and nginx-prometheus-exporter hold nothing a check could run
            assert "healthcheck" not in service, name
            continue
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test", [None])[0] in {"CMD", "CMD-SHELL"}, name
        # a check that cannot fail is no check
        assert "exit 0" not in " ".join(check["test"]), name


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_networks_dmz_for_nginx_bot_network_for_the_rest(rendered, environment):
    every = services(rendered, environment)
    assert set(every["nginx"]["networks"]) == {"dmz", "bot-network"}
    for name, service in every.items():
        if name == "node-exporter":
            # the host's own counters (network included) need the host's namespaces
            assert (service["network_mode"], service["pid"]) == ("host", "host")
            assert "networks" not in service
        elif name != "nginx":
            assert set(service["networks"]) == {"bot-network"}, name


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_start_order_is_by_conditions(rendered, environment):
    every = services(rendered, environment)

    def condition(name: str, on: str) -> str:
        return str(every[name]["depends_on"][on]["condition"])

    for name in ("app", "webhook"):
        assert condition(name, "migrate") == "service_completed_successfully"
        assert condition("nginx", name) == "service_healthy"
    if environment == "development":
        assert condition("app", "redis") == "service_healthy"
        return
    assert condition("migrate", "db") == "service_healthy"
    assert condition("app", "redis-cluster-creator") == "service_completed_successfully"
    for node in (n for n in REDIS_PORTS if n in every):
        assert condition("redis-cluster-creator", node) == "service_healthy"
    for replica in ("db-replica-1", "db-replica-2"):
        if replica in every:
            assert condition(replica, "db") == "service_healthy"
    if "prometheus" in every:
        # Alertmanager first, so the first alerts have somewhere to go
        assert condition("prometheus", "alertmanager") == "service_healthy"


@pytest.mark.parametrize("environment", [*ENVIRONMENTS, "production+tunnel"])
def test_every_service_is_hardened_limited_and_rotates_its_logs(rendered, environment):
    for name, service in services(rendered, environment).items():
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert service.get("cap_drop") == ["ALL"], name
        assert service.get("read_only") is True, name
        assert int(service["deploy"]["resources"]["limits"]["memory"]) > 0, name
        logging = service["logging"]
        assert logging["driver"] == "json-file", name
        assert {"max-size", "max-file"} <= set(logging["options"]), name


@pytest.mark.parametrize("environment", [*ENVIRONMENTS, "production+tunnel"])
def test_no_secret_value_is_inline(rendered, environment):
    """Secrets are files: no secret-named variable holds a value, no URL carries
    credentials, and no secret file's content appears anywhere in the rendered
    configuration."""
    text = json.dumps(rendered[environment])
    for name in SECRET_FILES:
        assert canary(name) not in text, name
    for name, service in services(rendered, environment).items():
        for variable, value in service.get("environment", {}).items():
            assert not SECRET_NAME.search(variable), f"{name}: {variable} holds a secret"
            if URL_NAME.search(variable):
                assert "@" not in str(value), f"{name}: {variable} carries credentials"
    for secret in rendered[environment].get("secrets", {}).values():
        assert set(secret) <= {"name", "file"}, secret


def test_replicas_stream_from_the_primary_over_their_own_slots(rendered):
    production = services(rendered, "production")
    slots = {
        production[name]["environment"]["REPLICATION_SLOT"]
        for name in ("db-replica-1", "db-replica-2")
    }
    assert slots == {"replica_1", "replica_2"}
    init = [v["target"] for v in production["db"]["volumes"] if v["type"] == "bind"]
    assert init == ["/docker-entrypoint-initdb.d/10-replication.sh"]


def test_production_bots_read_from_the_replicas_the_webhook_service_does_not(rendered):
    production = services(rendered, "production")
    app, webhook = production["app"], production["webhook"]
    assert app["environment"]["DATABASE_REPLICA_URLS_FILE"] == "/run/secrets/database_replica_urls"
    assert {s["source"] for s in app["secrets"]} == {
        "database_url",
        "database_replica_urls",
        "telegram_token",
        "telegram_webhook_secret",
        "heleket_api_key",
        "heleket_payout_key",
    }
    assert app["environment"]["DATABASE_URL_FILE"] == "/run/secrets/database_url"
    assert "DATABASE_REPLICA_URLS_FILE" not in webhook["environment"]
    assert "database_replica_urls" not in {s["source"] for s in webhook["secrets"]}
    for environment in ("development", "staging"):
        assert "DATABASE_REPLICA_URLS_FILE" not in services(rendered, environment)["app"].get(
            "environment", {}
        )


def test_production_mounts_tls_and_redirects_to_https(rendered):
    nginx = services(rendered, "production")["nginx"]
    assert nginx["environment"]["ENABLE_HTTPS_REDIRECT"] == "true"
    certs = [v for v in nginx["volumes"] if v["target"] == "/etc/nginx/certs"]
    assert len(certs) == 1
    assert certs[0]["read_only"] is True
    assert "/etc/nginx/certs" not in json.dumps(services(rendered, "staging")["nginx"])


@pytest.mark.parametrize(
    ("missing", "environment"),
    [
        ("PRODUCTION_DOMAIN", "staging"),
        ("HELEKET_MERCHANT_ID", "development"),
        ("TLS_CERT_DIR", "production"),
    ],
)
def test_a_required_variable_left_unset_stops_compose_naming_it(variables, missing, environment):
    done = render(environment, {k: v for k, v in variables.items() if k != missing})
    assert done.returncode != 0
    assert missing in done.stderr


def test_compose_files_name_only_files_that_exist():
    """Every bind-mounted path in the Compose files is in the repository."""
    compose = Path(__file__).resolve().parents[2] / "deploy" / "compose"
    for path in compose.glob("compose*.yaml"):
        for source in re.findall(r"^\s+- (\.\.?/[^:]+):", path.read_text(), re.MULTILINE):
            assert (compose / source).exists(), f"{path.name}: {source}"
