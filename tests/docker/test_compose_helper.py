"""The Compose helper the environment tests build on: a project under a unique name comes up
with health conditions and one-shot services, and `down` leaves no container, network or
volume behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docker.containers import ComposeProject, DockerError, docker

pytestmark = pytest.mark.usefixtures("standin_images")

COMPOSE = """\
services:
  cache:
    image: redis:7.0
    command: ["--save", "1", "1"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      timeout: 3s
      retries: 30
  once:
    image: redis:7.0
    command: ["redis-cli", "-h", "cache", "set", "written-by", "once"]
    depends_on:
      cache: {condition: service_healthy}
volumes:
  data: {}
"""


def test_project_comes_up_healthy_and_goes_down_clean(
    compose_project: Callable[..., ComposeProject], tmp_path: Path
) -> None:
    file = tmp_path / "compose.yaml"
    file.write_text(COMPOSE)
    project = compose_project([file])
    project.up(one_shot=["once"], wait_timeout=90)

    states = project.compose("ps", "--all", "--format", "{{.Service}} {{.State}} {{.ExitCode}}")
    rows = dict(line.split(" ", 1) for line in states.stdout.splitlines())
    assert rows["cache"].startswith("running")
    assert rows["once"] == "exited 0"
    value = project.compose("exec", "-T", "cache", "redis-cli", "get", "written-by").stdout
    assert value.strip() == "once"
    assert project.leftovers(), "the project's containers, network and volume exist"

    project.down()
    assert project.leftovers() == []
    assert docker("volume", "ls", "--quiet", "--filter", f"name={project.name}").stdout == ""


def test_a_one_shot_service_that_fails_fails_up(
    compose_project: Callable[..., ComposeProject], tmp_path: Path
) -> None:
    file = tmp_path / "compose.yaml"
    file.write_text(
        "services:\n"
        "  broken:\n"
        "    image: redis:7.0\n"
        '    command: ["sh", "-c", "echo cannot form the cluster >&2; exit 3"]\n'
    )
    project = compose_project([file])
    with pytest.raises(DockerError, match=r"(?s)broken-1 exited 3.*cannot form the cluster"):
        project.up(one_shot=["broken"], wait_timeout=60)
