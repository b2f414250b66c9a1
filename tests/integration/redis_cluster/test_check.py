"""`shopbot redis cluster check`: its table and exit codes on a real 3+3 cluster, healthy,
after a master was killed, and with slots left unassigned."""

from pathlib import Path

import pytest

from tests.integration.redis_cluster.helpers import (
    client,
    promoted,
    redis_cluster_command,
    wait_for,
)
from tests.redis_cluster import HOST, LocalRedisCluster, free_cluster_ports

pytestmark = pytest.mark.subprocess


async def test_a_healthy_cluster_exits_0_with_a_row_per_node(
    formed: LocalRedisCluster, tmp_path: Path
) -> None:
    run = await redis_cluster_command(tmp_path, "check", *formed.nodes)

    assert run.code == 0, run.output
    rows = [line for line in run.stdout.splitlines() if line.startswith(HOST)]
    assert len(rows) == 6
    assert sum(" master " in row for row in rows) == 3
    assert sum(" replica " in row for row in rows) == 3
    assert "slots: 16384/16384 assigned, 16384 ok, 0 pfail, 0 fail" in run.stdout
    assert "masters: 3, replicas: 3" in run.stdout
    assert "links: 30 connected, 0 disconnected" in run.stdout
    assert "problem:" not in run.stdout
    assert run.stdout.rstrip().endswith("verdict: healthy (exit 0)")


async def test_a_killed_master_whose_replica_took_over_is_degraded(
    formed: LocalRedisCluster, tmp_path: Path
) -> None:
    dead, heir = formed.nodes[0], formed.nodes[3]
    formed.kill(formed.ports[0])
    wait_for(lambda: promoted(formed, 0, 3), "the replica is promoted", timeout=30)

    run = await redis_cluster_command(tmp_path, "check", *formed.nodes)

    assert run.code == 1, run.output
    assert f"problem: {dead} does not answer" in run.stdout
    assert f"problem: node {dead} is failed" in run.stdout
    assert f"problem: master {heir} has 0 replica(s), 1 wanted" in run.stdout
    assert "slots: 16384/16384 assigned" in run.stdout
    assert "verdict: degraded (exit 1)" in run.stdout


async def test_unassigned_slots_are_broken(formed: LocalRedisCluster, tmp_path: Path) -> None:
    for node in formed.nodes:  # every node forgets who serves slots 0-99
        with client(node) as single:
            single.cluster("DELSLOTSRANGE", 0, 99)

    def down() -> bool:
        with client(formed.nodes[1]) as single:
            return bool(single.cluster("INFO")["cluster_state"] == "fail")

    wait_for(down, "cluster_state:fail")

    run = await redis_cluster_command(tmp_path, "check", *formed.nodes)

    assert run.code == 2, run.output
    assert "problem: 100 slots unassigned: 0-99" in run.stdout
    assert "slots: 16284/16384 assigned" in run.stdout
    assert "verdict: broken (exit 2)" in run.stdout


async def test_no_node_answering_is_broken(tmp_path: Path) -> None:
    nodes = [f"{HOST}:{port}" for port in free_cluster_ports(2)]

    run = await redis_cluster_command(tmp_path, "check", "--timeout", "0.5", *nodes)

    assert run.code == 2, run.output
    assert f"problem: {nodes[0]} does not answer (ConnectionError" in run.stdout
    assert "problem: no node answered" in run.stdout
