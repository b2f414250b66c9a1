"""deploy/nginx inside the `nginx:1.22` image (the official one where it can be pulled,
the project's stand-in here), with its own entrypoint, hardened as Compose runs it:
read-only root, tmpfs for what nginx writes, every capability dropped but the four the
master needs. No network: `app` and `webhook` resolve to loopback via --add-host."""

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nginx.conftest import make_certificate
from tests.nginx.edge import DEPLOY, DOMAIN

pytestmark = pytest.mark.docker

IMAGE = "nginx:1.22"
# chown: the master makes its temp directories on the tmpfs and hands them to uid 101;
# setuid/setgid: the workers drop to that user; net_bind_service: ports 80 and 443.
CAPABILITIES = ("CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE")


def docker(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, timeout=120, check=check
    )


def run_arguments(certificates: Path | None, *environment: str) -> list[str]:
    mounts = [
        "-v", f"{DEPLOY / 'templates'}:/etc/nginx/templates:ro",
        "-v", f"{DEPLOY / 'docker-entrypoint.d' / '15-shopbot-nginx.envsh'}"
        ":/docker-entrypoint.d/15-shopbot-nginx.envsh:ro",
    ]  # fmt: skip
    if certificates is not None:
        mounts += ["-v", f"{certificates}:/etc/nginx/certs:ro"]
    hardening = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    for capability in CAPABILITIES:
        hardening += ["--cap-add", capability]
    for writable in ("/etc/nginx/conf.d", "/var/cache/nginx", "/var/run"):
        hardening += ["--tmpfs", writable]
    hosts = ["--add-host", "app:127.0.0.1", "--add-host", "webhook:127.0.0.1"]
    variables = [item for name in environment for item in ("-e", name)]
    return ["--network", "none", *hardening, *hosts, *mounts, *variables, IMAGE]


@pytest.fixture(scope="module")
def image(standin_images: dict[str, str]) -> str:
    assert standin_images["nginx"] == IMAGE
    return IMAGE


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"shopbot-test-nginx-{uuid.uuid4().hex[:8]}"
    yield name
    docker("rm", "--force", "--volumes", name, check=False)


def test_the_image_entrypoint_renders_a_valid_config(image: str, tmp_path: Path) -> None:
    certificates = tmp_path / "certs"
    make_certificate(certificates)
    done = docker(
        "run", "--rm", *run_arguments(certificates, f"PRODUCTION_DOMAIN={DOMAIN}"), "nginx", "-t"
    )
    assert "test is successful" in done.stderr
    assert "TLS on 443" in done.stdout + done.stderr


def test_the_image_refuses_a_missing_domain(image: str) -> None:
    done = docker("run", "--rm", *run_arguments(None), "nginx", "-t", check=False)
    assert done.returncode != 0
    assert "PRODUCTION_DOMAIN is required" in done.stderr
    assert "test is successful" not in done.stderr


def test_the_hardened_container_serves(image: str, tmp_path: Path, container_name: str) -> None:
    certificates = tmp_path / "certs"
    make_certificate(certificates)
    docker(
        "run", "--detach", "--name", container_name,
        *run_arguments(certificates, f"PRODUCTION_DOMAIN={DOMAIN}", "ENABLE_HTTPS_REDIRECT=true"),
    )  # fmt: skip
    for _ in range(100):
        health = docker(
            "exec", container_name, "curl", "-fsS", "http://127.0.0.1:8081/healthz", check=False
        )
        if health.stdout == "ok\n":
            break
        time.sleep(0.1)
    probe = (
        "curl -s -o /dev/null -w ' %{http_code}' -X POST http://127.0.0.1/webhook/telegram;"
        " curl -sk -o /dev/null -w ' %{http_code}' -X POST https://127.0.0.1/webhook/telegram;"
        " curl -sk -o /dev/null -w ' %{http_code}' https://127.0.0.1/metrics"
    )
    done = docker("exec", container_name, "sh", "-c", probe)
    assert health.stdout == "ok\n", docker("logs", container_name)
    # HTTP redirected; HTTPS proxied to app:8080, which is not there; 404
    assert done.stdout.split() == ["308", "502", "404"], done
    logs = docker("logs", container_name).stderr
    assert 'upstream: "http://127.0.0.1:8080/webhook/telegram"' in logs
