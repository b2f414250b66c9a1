"""Faults the drills inject into a running production stack, and the look-ups they need:
which Redis master has a live replica to fail over to, which bot instance holds the
broadcast worker's lease, and the PostgreSQL queries the checks make."""

from __future__ import annotations

import json
import subprocess
import time

from shopbot.bot.broadcast_worker import BROADCAST_LEASE
from shopbot.persistence.locks import lock_key
from tests.docker.live.stack import LiveStack

ONE_SHOTS = ("migrate", "redis-cluster-creator")
REDIS_NODES = {
    "redis-node-1": 7379, "redis-node-2": 7380, "redis-node-3": 7381,
    "redis-replica-1": 7382, "redis-replica-2": 7383, "redis-replica-3": 7384,
}  # fmt: skip


def sql(stack: LiveStack, query: str) -> list[list[str]]:
    """Rows of `query` on the primary, as psql's unaligned output split on `|`."""
    out = stack.compose(
        "exec", "-T", "db", "psql", "-U", "shopbot", "-d", "shopbot", "-Atc", query
    ).stdout  # fmt: skip
    return [line.split("|") for line in out.splitlines() if line]


def restore(stack: LiveStack) -> list[str]:
    """Starts every long-running service a previous drill left stopped or killed and
    waits until each is healthy; returns their names."""
    stopped = sorted(
        {
            str(c["Service"])
            for c in stack.containers()
            if c["State"] != "running" and c["Service"] not in ONE_SHOTS
        }
    )
    if stopped:
        stack.compose("up", "--detach", "--wait", "--no-recreate", "--no-deps", *stopped,
                      timeout=400)  # fmt: skip
    return stopped


def cluster_nodes(stack: LiveStack) -> list[list[str]]:
    """CLUSTER NODES from the first node that answers, one split line per node."""
    for service, port in REDIS_NODES.items():
        done = stack.compose("exec", "-T", service, "redis-cli", "-p", str(port),
                             "cluster", "nodes", check=False)  # fmt: skip
        if done.returncode == 0 and done.stdout.strip():
            return [line.split() for line in done.stdout.splitlines() if line.strip()]
    raise AssertionError("no Redis node answers CLUSTER NODES")


def master_with_live_replica(stack: LiveStack) -> str:
    """The service name of a master serving slots whose replica is connected (killing
    it must end in a promotion, not in slots left unserved)."""
    nodes = cluster_nodes(stack)
    replicated = {
        n[3] for n in nodes if "slave" in n[2] and "fail" not in n[2] and n[7] == "connected"
    }
    for n in nodes:
        if "master" in n[2] and "fail" not in n[2] and n[0] in replicated and len(n) > 8:
            return n[1].split(",", 1)[1]  # ip:port@cport,hostname: the Compose name
    raise AssertionError(f"no master has a connected replica: {nodes}")


def cluster_ok(stack: LiveStack, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for service, port in REDIS_NODES.items():
            done = stack.compose("exec", "-T", service, "redis-cli", "-p", str(port),
                                 "cluster", "info", check=False)  # fmt: skip
            if done.returncode == 0:
                if "cluster_state:ok" in done.stdout:
                    return True
                break
        time.sleep(1)
    return False


def broadcast_lease_holder(stack: LiveStack, timeout: float = 60) -> str:
    """The container name of the bot instance whose PostgreSQL session holds the
    broadcast worker's advisory lock (pg_locks: a bigint key is classid = high 32 bits,
    objid = low 32 bits, objsubid 1), matched by its address on bot-network."""
    key = lock_key(BROADCAST_LEASE)
    query = (
        "select host(a.client_addr) from pg_locks l join pg_stat_activity a on a.pid = l.pid "
        f"where l.locktype = 'advisory' and l.granted and l.classid = {(key >> 32) & 0xFFFFFFFF} "
        f"and l.objid = {key & 0xFFFFFFFF} and l.objsubid = 1"
    )
    addresses = app_addresses(stack)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = sql(stack, query)
        if rows and rows[0][0] in addresses:
            return addresses[rows[0][0]]
        time.sleep(0.5)
    raise AssertionError(f"no bot instance holds {BROADCAST_LEASE!r} within {timeout} s")


def app_addresses(stack: LiveStack) -> dict[str, str]:
    """Address on any network -> container name, for every running bot instance."""
    found: dict[str, str] = {}
    for container in stack.containers():
        if container["Service"] != "app" or container["State"] != "running":
            continue
        name = str(container["Name"])
        done = subprocess.run(
            ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        for network in json.loads(done.stdout).values():
            found[network["IPAddress"]] = name
    return found


def kill9(container: str) -> None:
    subprocess.run(["docker", "kill", "--signal", "KILL", container],
                   check=True, capture_output=True)  # fmt: skip
