"""Fixtures for the tests that run containers (tests/conftest.py loads this module as a
plugin, so tests/docker, tests/nginx and tests/deploy share one build of each image;
everything under tests/docker is marked `docker` and `subprocess`).

- `docker_engine`: the Docker engine answers (else the test fails, saying what to run);
- `standin_images`: the official image tags the Compose files use exist locally, as the
  offline stand-ins of scripts/build-image-standins.sh or as the pulled official images;
- `project_image`: the project's image (deploy/docker/Dockerfile) built by `make image`
  on top of those, tagged `$SHOPBOT_TEST_IMAGE` (default `shopbot:local`);
- `containers`: makes containers, networks and volumes for one test and removes them all;
- `compose_project`: makes Compose projects under unique names and brings them down.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.docker.containers import ComposeProject, Containers, DockerError, docker

ROOT = Path(__file__).resolve().parents[2]
BUILD_STANDINS = ROOT / "scripts" / "build-image-standins.sh"
# The official tags the stand-ins take (deploy/images/<folder>).
STANDIN_TAGS = {
    "python": "python:3.11-slim-bookworm",
    "postgres": "postgres:15",
    "redis": "redis:7.0",
    "nginx": "nginx:1.22",
    "prometheus": "prom/prometheus:v2.42.0",
    "alertmanager": "prom/alertmanager:v0.25.0",
    "node-exporter": "prom/node-exporter:v1.5.0",
    "postgres-exporter": "prometheuscommunity/postgres-exporter:v0.11.1",
    "redis-exporter": "oliver006/redis_exporter:v1.45.0",
    "nginx-exporter": "nginx/nginx-prometheus-exporter:0.11.0",
}
# A cold build (debootstrap ~75 s and five images) measured 4-5 min on the 2-core machine.
BUILD_TIMEOUT_SECONDS = 1200
SESSION = uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The Docker engine's version; fails the test when the engine does not answer."""
    try:
        done = docker("version", "--format", "{{.Server.Version}}", timeout=30)
    except (DockerError, FileNotFoundError, subprocess.TimeoutExpired) as error:
        pytest.fail(
            f"the Docker engine does not answer ({error}); start it with "
            "`make services` (scripts/ensure-services.sh, as root)"
        )
    return done.stdout.strip()


@pytest.fixture(scope="session")
def standin_images(docker_engine: str) -> dict[str, str]:
    """Folder name -> official tag, once every tag exists locally. Runs the build script,
    which builds nothing when its inputs are unchanged and waits for a concurrent run."""
    done = subprocess.run(
        [str(BUILD_STANDINS)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{BUILD_STANDINS} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return dict(STANDIN_TAGS)


@pytest.fixture(scope="session")
def project_image(standin_images: dict[str, str]) -> str:
    """The project image's tag, built once per session by `make image` (a rebuild with
    unchanged sources takes seconds: every layer is cached)."""
    tag = os.environ.get("SHOPBOT_TEST_IMAGE", "shopbot:local")
    done = subprocess.run(
        ["make", "-C", str(ROOT), "image", f"IMAGE={tag}"],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"make image exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return tag


@pytest.fixture
def containers(docker_engine: str) -> Iterator[Containers]:
    """Containers, networks and volumes for this test, all removed after it."""
    made = Containers(session=SESSION)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def compose_project(docker_engine: str) -> Iterator[Callable[..., ComposeProject]]:
    """A factory of Compose projects with unique names: `compose_project(files, env=...,
    profiles=...)`. Every project made is brought down (`down --volumes
    --remove-orphans`) after the test, whatever its outcome."""
    made: list[ComposeProject] = []

    def make(
        files: Sequence[Path],
        env: dict[str, str] | None = None,
        profiles: Sequence[str] = (),
    ) -> ComposeProject:
        project = ComposeProject(files=list(files), env=env or {}, profiles=profiles)
        made.append(project)
        return project

    try:
        yield make
    finally:
        for project in made:
            project.down()
