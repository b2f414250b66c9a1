"""Running containers and Compose projects from tests, always cleaned up.

Everything goes through the `docker` CLI (and its `compose` plugin), as a person would run
it. Every container, network and volume a test makes carries the label `TEST_LABEL`, and a
unique name, so parallel pytest workers never collide and a crashed run's leftovers can be
found (`docker ps -a --filter label=org.shopbot.test`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEST_LABEL = "org.shopbot.test"
DOCKER = os.environ.get("DOCKER", "docker")


class DockerError(RuntimeError):
    """A `docker` command exited non-zero; the message holds the command and its output."""


def docker(
    *args: str, timeout: float = 120, check: bool = True, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs `docker ARGS...` and returns the finished process (text output).

    Raises DockerError when it exits non-zero (with `check`), subprocess.TimeoutExpired
    after `timeout` seconds.
    """
    done = subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
        check=False,
    )
    if check and done.returncode != 0:
        raise DockerError(
            f"docker {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def unique_name(prefix: str = "shopbot-test") -> str:
    """A name no other test or worker uses: PREFIX-<12 hex digits>."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.2
) -> None:
    """Polls `predicate` until it returns True; raises TimeoutError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


@dataclass
class Container:
    """A container made by `Containers`; `name` is unique to the test."""

    name: str

    def inspect(self) -> dict[str, Any]:
        """`docker inspect` of the container, as a dict."""
        data: list[dict[str, Any]] = json.loads(docker("inspect", self.name).stdout)
        return data[0]

    def exec(self, *command: str, user: str | None = None, timeout: float = 60) -> str:
        """Runs COMMAND inside the running container; returns its stdout. DockerError if it
        exits non-zero."""
        options = ["--user", user] if user else []
        return docker("exec", *options, self.name, *command, timeout=timeout).stdout

    def copy_in(self, source: str, destination: str) -> None:
        """Copies a host file or folder into the container (created or running), as
        `docker cp` does: SOURCE ending in `/.` copies a folder's contents."""
        docker("cp", source, f"{self.name}:{destination}")

    def start(self) -> None:
        docker("start", self.name)

    def stop(self, timeout: int = 10) -> None:
        docker("stop", "--time", str(timeout), self.name, timeout=timeout + 30)

    def logs(self) -> str:
        done = docker("logs", self.name, check=False)
        return done.stdout + done.stderr

    def is_running(self) -> bool:
        return bool(self.inspect()["State"]["Running"])

    def host_port(self, container_port: int) -> int:
        """The loopback port Docker published CONTAINER_PORT/tcp on."""
        bindings = self.inspect()["NetworkSettings"]["Ports"][f"{container_port}/tcp"]
        return int(bindings[0]["HostPort"])

    def process_uids(self, command_name: str) -> list[int]:
        """Real uids of the container's processes named COMMAND_NAME (from /proc, which
        every image has, unlike `ps`)."""
        script = (
            "for p in /proc/[0-9]*; do "
            f'if [ "$(cat $p/comm 2>/dev/null)" = "{command_name}" ]; then '
            "awk '/^Uid:/ { print $2 }' $p/status; fi; done"
        )
        return [int(line) for line in self.exec("sh", "-c", script).split()]

    def wait_healthy(self, timeout: float = 60) -> None:
        """Waits for Docker's health status `healthy`; TimeoutError (with the logs) if not."""

        def healthy() -> bool:
            state = self.inspect()["State"]
            if not state["Running"]:
                raise DockerError(f"{self.name} stopped:\n{self.logs()}")
            return bool(state.get("Health", {}).get("Status") == "healthy")

        try:
            wait_until(healthy, timeout, f"{self.name} healthy")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.logs()}") from None

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        """Waits until the container's output contains TEXT."""
        try:
            wait_until(lambda: text in self.logs(), timeout, f"{text!r} in {self.name}'s logs")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.logs()}") from None


@dataclass
class Containers:
    """Makes containers for one test and removes them, their anonymous volumes and the
    networks and named volumes made through it, whatever the test's outcome (`close`)."""

    session: str
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def create(
        self,
        image: str,
        *command: str,
        env: Mapping[str, str] | None = None,
        publish: Sequence[int] = (),
        options: Sequence[str] = (),
    ) -> Container:
        """`docker create` IMAGE [COMMAND...]; each port in PUBLISH is published on a free
        loopback port (see Container.host_port). Not started: copy files in, then start."""
        name = unique_name()
        args = ["create", "--name", name, "--label", f"{TEST_LABEL}={self.session}"]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        for port in publish:
            args += ["--publish", f"127.0.0.1::{port}"]
        docker(*args, *options, image, *command)
        self.containers.append(name)
        return Container(name)

    def run(
        self,
        image: str,
        *command: str,
        env: Mapping[str, str] | None = None,
        publish: Sequence[int] = (),
        options: Sequence[str] = (),
    ) -> Container:
        """`create` then `start`: a running container."""
        container = self.create(image, *command, env=env, publish=publish, options=options)
        container.start()
        return container

    def run_once(
        self, image: str, *command: str, options: Sequence[str] = (), timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Runs IMAGE [COMMAND] to completion (`docker run --rm`); returns the finished
        process without checking its exit code."""
        name = unique_name()
        self.containers.append(name)
        return docker(
            "run", "--rm", "--name", name, "--label", f"{TEST_LABEL}={self.session}",
            *options, image, *command, timeout=timeout, check=False,
        )  # fmt: skip

    def network(self) -> str:
        """A new bridge network; returns its name."""
        name = unique_name("shopbot-test-net")
        docker("network", "create", "--label", f"{TEST_LABEL}={self.session}", name)
        self.networks.append(name)
        return name

    def volume(self) -> str:
        """A new named volume; returns its name."""
        name = unique_name("shopbot-test-vol")
        docker("volume", "create", "--label", f"{TEST_LABEL}={self.session}", name)
        self.volumes.append(name)
        return name

    def close(self) -> None:
        """Removes everything made through this object (containers with their anonymous
        volumes first, since they hold the networks and volumes)."""
        if self.containers:
            docker("rm", "--force", "--volumes", *self.containers, check=False, timeout=120)
        for network in self.networks:
            docker("network", "rm", network, check=False)
        if self.volumes:
            docker("volume", "rm", "--force", *self.volumes, check=False)


@dataclass
class ComposeProject:
    """A Compose project under a unique name (`docker compose -p NAME -f FILE...`);
    `down` removes its containers, networks and volumes, including orphans."""

    files: Sequence[Path]
    name: str = field(default_factory=lambda: unique_name("shopbot-test"))
    env: Mapping[str, str] = field(default_factory=dict)
    profiles: Sequence[str] = ()

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Runs `docker compose` with this project's name, files and profiles."""
        base = ["compose", "--project-name", self.name]
        for file in self.files:
            base += ["--file", str(file)]
        for profile in self.profiles:
            base += ["--profile", profile]
        done = subprocess.run(
            [DOCKER, *base, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
            check=False,
        )
        if check and done.returncode != 0:
            raise DockerError(
                f"docker compose {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def up(self, *services: str, one_shot: Sequence[str] = (), wait_timeout: float = 300) -> None:
        """`up --detach`, then waits until every container of the project is settled: the
        ONE_SHOT services' containers exited 0, the others running and healthy (or running,
        when they have no health check). DockerError at once when a container exits
        non-zero; TimeoutError with the unsettled containers' logs after `wait_timeout`
        seconds.

        Not `up --wait`: Compose 2.40 fails it when a one-shot service that no other
        service waits for (`service_completed_successfully`) exits, even with 0."""
        self.compose("up", "--detach", *services, timeout=wait_timeout + 120)

        def settled() -> bool:
            return self.settled(one_shot)

        try:
            wait_until(settled, wait_timeout, f"compose project {self.name} settled", 1.0)
        except TimeoutError as error:
            waiting = [c["Service"] for c in self.containers() if not _settled(c, one_shot)]
            logs = self.compose("logs", "--no-color", "--tail", "40", *waiting, check=False)
            raise TimeoutError(f"{error}; still waiting for {waiting}:\n{logs.stdout}") from None

    def containers(self) -> list[dict[str, Any]]:
        """`ps --all` of the project: one dict per container (Service, Name, State, Health,
        ExitCode, Publishers...)."""
        out = self.compose("ps", "--all", "--format", "json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def settled(self, one_shot: Sequence[str] = ()) -> bool:
        """True when every container is settled (see `up`); DockerError when one exited
        non-zero."""
        containers = self.containers()
        for container in containers:
            if container["State"] == "exited" and container["ExitCode"] != 0:
                service = container["Service"]
                logs = self.compose("logs", "--no-color", "--tail", "60", service, check=False)
                raise DockerError(
                    f"{container['Name']} exited {container['ExitCode']}:\n{logs.stdout}"
                )
        return bool(containers) and all(_settled(c, one_shot) for c in containers)

    def down(self) -> None:
        """Removes the project's containers, networks and volumes (named and anonymous)."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)

    def leftovers(self) -> list[str]:
        """Containers, networks and volumes that still carry this project's label."""
        label = f"label=com.docker.compose.project={self.name}"
        found: list[str] = []
        for kind in (("ps", "--all"), ("network", "ls"), ("volume", "ls")):
            args = [*kind, "--quiet", "--filter", label]
            found += docker(*args).stdout.split()
        return found


def _settled(container: Mapping[str, Any], one_shot: Sequence[str]) -> bool:
    if container["Service"] in one_shot or container["State"] == "exited":
        return bool(container["State"] == "exited" and container["ExitCode"] == 0)
    return bool(container["State"] == "running" and container["Health"] in ("", "healthy"))
