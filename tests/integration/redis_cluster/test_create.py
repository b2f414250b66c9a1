"""`shopbot redis cluster create` against six real, empty redis-server nodes."""

import asyncio
import sys
from pathlib import Path

import pytest
import redis

from tests.integration.cli.harness import clean_env
from tests.integration.redis_cluster.helpers import (
    SLOTS,
    client,
    cluster_nodes,
    redis_cluster_command,
    states,
    wait_for,
)
from tests.redis_cluster import HOST, LocalRedisCluster, free_cluster_ports

pytestmark = pytest.mark.subprocess


def by_name(cluster: LocalRedisCluster) -> list[str]:
    """The nodes as `localhost:PORT`: the creator must resolve names itself (CLUSTER MEET
    takes only IP addresses), as it must with Docker's service names."""
    return [f"localhost:{port}" for port in cluster.ports]


async def test_create_forms_three_masters_each_with_its_own_replica(
    six_nodes: LocalRedisCluster, tmp_path: Path
) -> None:
    run = await redis_cluster_command(tmp_path, "create", *by_name(six_nodes), "--replicas", "1")

    assert run.code == 0, run.output
    assert "cluster formed: 3 masters, 3 replicas, 16384 slots assigned" in run.stdout
    for node in six_nodes.nodes:
        with client(node) as single:
            assert single.cluster("INFO")["cluster_state"] == "ok"
    view = cluster_nodes(six_nodes.nodes[0])
    masters = {
        fields["node_id"]: address
        for address, fields in view.items()
        if "master" in fields["flags"]
    }
    assert sorted(masters.values()) == sorted(six_nodes.nodes[:3])  # the first three given
    covered = [
        slot
        for address in masters.values()
        for start, end in view[address]["slots"]
        for slot in range(int(start), int(end) + 1)
    ]
    assert sorted(covered) == list(range(SLOTS))  # every slot, each once
    followed = [fields["master_id"] for fields in view.values() if "slave" in fields["flags"]]
    assert sorted(followed) == sorted(masters)  # each replica on a different master
    cluster = redis.RedisCluster(host=HOST, port=six_nodes.ports[0], decode_responses=True)
    try:
        for number in range(20):  # keys in slots of all three masters
            cluster.set(f"key-{number}", str(number))
            assert cluster.get(f"key-{number}") == str(number)
    finally:
        cluster.close()


async def test_create_again_changes_nothing(six_nodes: LocalRedisCluster, tmp_path: Path) -> None:
    first = await redis_cluster_command(tmp_path, "create", *six_nodes.nodes)
    assert first.code == 0, first.output
    before = states(six_nodes.nodes)

    again = await redis_cluster_command(tmp_path, "create", *six_nodes.nodes)
    dry = await redis_cluster_command(tmp_path, "create", "--dry-run", *six_nodes.nodes)

    for run in (again, dry):
        assert run.code == 0, run.output
        assert "already formed and healthy: nothing to do" in run.stdout
        assert "replicates" not in run.stdout
    assert states(six_nodes.nodes) == before


async def test_dry_run_prints_the_plan_and_changes_nothing(
    six_nodes: LocalRedisCluster, tmp_path: Path
) -> None:
    before = states(six_nodes.nodes)

    run = await redis_cluster_command(tmp_path, "create", "--dry-run", *six_nodes.nodes)

    assert run.code == 0, run.output
    first, second, *_, fifth, _ = six_nodes.nodes
    assert f"{first} serves 5461 slots (0-5460)" in run.stdout
    assert f"{fifth} replicates {second}" in run.stdout
    assert "dry run: nothing changed" in run.stdout
    assert states(six_nodes.nodes) == before


async def test_a_node_holding_a_key_is_refused_and_nothing_is_touched(
    six_nodes: LocalRedisCluster, tmp_path: Path
) -> None:
    holder = six_nodes.nodes[4]
    with client(holder) as single:  # a key on a node in no cluster: serve all, write, let go
        single.cluster("ADDSLOTSRANGE", 0, SLOTS - 1)
        wait_for(lambda: single.cluster("INFO")["cluster_state"] == "ok", "one-node cluster up")
        single.set("precious", "data")
        single.cluster("DELSLOTSRANGE", 0, SLOTS - 1)
    before = states(six_nodes.nodes)

    run = await redis_cluster_command(tmp_path, "create", *six_nodes.nodes)

    assert run.code == 2, run.output
    assert f"{holder} holds 1 keys and is in no cluster" in run.stderr
    assert "left untouched" in run.stderr
    assert states(six_nodes.nodes) == before
    with client(holder) as single:  # SCAN: keyless, so a node serving no slot answers it
        assert list(single.scan_iter()) == ["precious"]


async def test_a_node_in_another_cluster_is_refused(
    six_nodes: LocalRedisCluster, tmp_path: Path
) -> None:
    first, second, third, fourth, fifth, _ = six_nodes.nodes
    formed = await redis_cluster_command(
        tmp_path, "create", "--replicas", "0", first, second, third
    )
    assert formed.code == 0, formed.output
    before = states(six_nodes.nodes)

    run = await redis_cluster_command(tmp_path, "create", "--replicas", "0", first, fourth, fifth)

    assert run.code == 2, run.output
    assert f"{first} is already in another cluster" in run.stderr
    assert states(six_nodes.nodes) == before


async def test_create_waits_for_nodes_that_are_still_starting(tmp_path: Path) -> None:
    ports = free_cluster_ports(6)
    creator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        *("redis", "cluster", "create", "--timeout", "60"),
        *(f"{HOST}:{port}" for port in ports),
        cwd=tmp_path,
        env=clean_env(None, PYTHONUNBUFFERED="1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert creator.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(60):  # the nodes start once the creator is retrying
        while "retrying" not in "".join(seen):
            line = (await creator.stdout.readline()).decode()
            assert line, f"the creator stopped before retrying: {seen}"
            seen.append(line)
    nodes = LocalRedisCluster(6, form=False, ports=ports)
    await asyncio.to_thread(nodes.start)
    try:
        stdout, stderr = await asyncio.wait_for(creator.communicate(), timeout=90)
    finally:
        nodes.stop()
    output = "".join(seen) + stdout.decode()
    assert creator.returncode == 0, output + stderr.decode()
    assert "not answering yet (ConnectionError); retrying" in output
    assert "cluster formed: 3 masters, 3 replicas" in output


async def test_create_gives_up_on_nodes_that_never_answer(tmp_path: Path) -> None:
    ports = free_cluster_ports(3)
    nodes = [f"{HOST}:{port}" for port in ports]

    run = await redis_cluster_command(
        tmp_path, "create", "--replicas", "0", "--timeout", "1", *nodes
    )

    assert run.code == 1, run.output
    for node in nodes:
        assert f"{node} did not answer within 1 s (ConnectionError" in run.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"],
            "make 1 masters; a cluster needs at least 3",
        ),
        (["127.0.0.1:1", "redis-node-1"], "'redis-node-1' is not HOST:PORT"),
    ],
)
async def test_create_refuses_a_wrong_node_list_before_waiting(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    run = await redis_cluster_command(tmp_path, "create", *arguments)

    assert run.code == 2, run.output
    assert message in run.stderr
