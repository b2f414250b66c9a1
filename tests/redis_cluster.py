"""A throwaway Redis Cluster (3 masters, no replicas) of real `redis-server` processes on
free loopback ports, in a temporary directory. Everything it started is stopped and
removed again, also when start-up fails halfway; on Linux the nodes also die with the
process that started them when it is killed before it can clean up.

    with running_cluster() as nodes:  # ["127.0.0.1:P1", "127.0.0.1:P2", "127.0.0.1:P3"]
        ...

    with empty_nodes(6) as cluster:  # cluster-enabled nodes that know only themselves
        cluster.nodes  # ...; cluster.kill(port) stops one with SIGKILL
"""

import contextlib
import ctypes
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
import redis.asyncio

HOST = "127.0.0.1"
BUS_OFFSET = 10000  # Redis always puts a node's cluster bus on its port + 10000
START_TIMEOUT = 20.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> Callable[[], None] | None:
    """Run in each node before exec: a pytest killed outright (a CI timeout's SIGKILL)
    cannot run its teardown, and must not leave the nodes running."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, not in the child

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))

    return preexec


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """Ports whose bus port is free too. Drawn below the kernel's ephemeral range (32768+)
    so that the pair does not collide with outgoing connections opened meanwhile."""
    ports: list[int] = []
    candidates = random.sample(range(15000, 22000), 500)
    for port in candidates:
        if _bindable(port) and _bindable(port + BUS_OFFSET):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError(f"no {count} free port pairs (port, port+{BUS_OFFSET}) on {HOST}")


class LocalRedisCluster:
    def __init__(
        self, masters: int = 3, *, form: bool = True, ports: list[int] | None = None
    ) -> None:
        """`masters` nodes; with `form` they are made a cluster with redis-cli, without
        it they stay empty (each knows only itself) for the creator under test. `ports`
        (from free_cluster_ports) when the caller must know them before the start."""
        self.masters = masters
        self.form = form
        self.chosen_ports = ports
        self.root = Path(tempfile.mkdtemp(prefix="shopbot-redis-cluster-"))
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def nodes(self) -> list[str]:
        return [f"{HOST}:{port}" for port in self.ports]

    def start(self) -> None:
        try:
            self.ports = self.chosen_ports or free_cluster_ports(self.masters)
            for port in self.ports:
                self.processes.append(self._spawn(port))
            deadline = time.monotonic() + START_TIMEOUT
            for port in self.ports:
                self._wait(deadline, port, lambda c: bool(c.ping()))
            if not self.form:
                return
            create = subprocess.run(
                [
                    "redis-cli",
                    "--cluster",
                    "create",
                    *self.nodes,
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
                timeout=START_TIMEOUT,
                check=False,
            )
            if create.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout!r}")
            for port in self.ports:
                self._wait(deadline, port, self._ready)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, port: int) -> "subprocess.Popen[bytes]":
        options = {
            "port": str(port),
            "bind": HOST,
            "cluster-enabled": "yes",
            "cluster-config-file": str(self.root / f"nodes-{port}.conf"),
            "cluster-node-timeout": "2000",
            "save": "",
            "appendonly": "no",
            "daemonize": "no",
            "dir": str(self.root),
            "logfile": str(self.root / f"redis-{port}.log"),
        }
        return subprocess.Popen(
            [
                "redis-server",
                *(arg for name, value in options.items() for arg in (f"--{name}", value)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # The death signal follows the forking thread: fixtures start this on the main one.
            preexec_fn=_die_with_parent(),
        )

    def _ready(self, client: "redis.Redis") -> bool:
        fields = client.cluster("INFO")
        # Every node must know the whole slot map, or clients get redirected mid-test.
        return (
            fields.get("cluster_state") == "ok"
            and fields.get("cluster_slots_assigned") == "16384"
            and fields.get("cluster_known_nodes") == str(self.masters)
        )

    def _wait(self, deadline: float, port: int, check: Callable[[redis.Redis], bool]) -> None:
        index = self.ports.index(port)
        while True:
            process = self.processes[index]
            if process.poll() is not None:
                raise RuntimeError(
                    f"redis-server on port {port} exited with {process.returncode}: "
                    f"{self._log_tail(port)}"
                )
            with (
                contextlib.suppress(redis.RedisError),
                redis.Redis(HOST, port, socket_timeout=1, socket_connect_timeout=1) as client,
            ):
                if check(client):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis cluster node {port} not ready: {self._log_tail(port)}")
            time.sleep(0.05)

    def _log_tail(self, port: int) -> str:
        log = self.root / f"redis-{port}.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"

    def kill(self, port: int) -> None:
        """SIGKILL one node, as a crashed host would stop it (no goodbye to the cluster)."""
        process = self.processes[self.ports.index(port)]
        process.kill()
        process.wait(timeout=5)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(masters: int = 3) -> Iterator[list[str]]:
    cluster = LocalRedisCluster(masters)
    cluster.start()
    try:
        yield cluster.nodes
    finally:
        cluster.stop()


@contextlib.contextmanager
def empty_nodes(count: int) -> Iterator[LocalRedisCluster]:
    """`count` cluster-enabled nodes, answering, each knowing only itself, no slots."""
    cluster = LocalRedisCluster(count, form=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def keys_by_node(nodes: list[str], pattern: str) -> dict[str, set[str]]:
    """The keys matching `pattern` that each node itself holds (asked node by node, not
    through a cluster client)."""
    held: dict[str, set[str]] = {}
    for node in nodes:
        host, port = node.rsplit(":", 1)
        async with redis.asyncio.Redis(host=host, port=int(port)) as single:
            held[node] = {key.decode() async for key in single.scan_iter(match=pattern)}
    return held
