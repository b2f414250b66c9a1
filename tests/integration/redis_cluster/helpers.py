"""What the Redis cluster tests need: the `shopbot redis cluster ...` command run for real,
and each node's state read with redis-py itself (not with the code under test)."""

import time
from pathlib import Path
from typing import Any

import redis

from tests.integration.cli.harness import Run, shopbot
from tests.redis_cluster import LocalRedisCluster

SLOTS = 16384


async def redis_cluster_command(cwd: Path, *args: str, **env: str) -> Run:
    return await shopbot(cwd, None, "redis", "cluster", *args, **env)


def client(node: str) -> redis.Redis:
    host, port = node.rsplit(":", 1)
    return redis.Redis(host, int(port), decode_responses=True, socket_timeout=2)


def cluster_nodes(node: str) -> dict[str, dict[str, Any]]:
    """redis-py's parse of the node's CLUSTER NODES: "ip:port" -> fields."""
    with client(node) as single:
        nodes: dict[str, dict[str, Any]] = single.cluster("NODES")
        return nodes


def state(node: str) -> dict[str, Any]:
    """Everything the creator could change on a node, without the ever-moving ping and
    pong times: its view of every node, its epochs, its keys."""
    with client(node) as single:
        info = single.cluster("INFO")
        keys = single.dbsize()
    view = {
        address: (
            fields["node_id"],
            fields["flags"],
            fields["master_id"],
            fields["epoch"],
            sorted(tuple(pair) for pair in fields["slots"]),
        )
        for address, fields in cluster_nodes(node).items()
    }
    epochs = {
        name: info[name]
        for name in ("cluster_current_epoch", "cluster_my_epoch", "cluster_known_nodes")
    }
    return {"view": view, "epochs": epochs, "keys": keys}


def states(nodes: list[str]) -> dict[str, dict[str, Any]]:
    return {node: state(node) for node in nodes}


def wait_for(condition: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def promoted(cluster: LocalRedisCluster, dead: int, heir: int) -> bool:
    """Node `heir` has taken over the slots of node `dead` (killed), as node `witness`
    (the first other than those two) sees it, and the cluster is ok again."""
    witness = next(node for index, node in enumerate(cluster.nodes) if index not in (dead, heir))
    view = cluster_nodes(witness)
    heir_fields = view[cluster.nodes[heir]]
    with client(witness) as single:
        ok = single.cluster("INFO")["cluster_state"] == "ok"
    return ok and "master" in heir_fields["flags"] and bool(heir_fields["slots"])
