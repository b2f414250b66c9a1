"""The Redis cluster creator's reading of CLUSTER NODES and its plans, from node views
written here as a node would print them (the live behaviour: tests/integration/redis_cluster)."""

import itertools

import pytest

from shopbot.ops.redis_cluster.nodes import (
    NodeAddress,
    NodeView,
    format_ranges,
    parse_cluster_nodes,
)
from shopbot.ops.redis_cluster.plan import Refused, make_plan, slot_ranges

# From the CLUSTER NODES reference (redis.io), plus a hostname and a migrating slot.
REPLICA_1 = "07c37dfeb235213a872192d90877d0cd55635b91"
MASTER_1 = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
MASTER_2 = "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1"
DOCUMENTED = "\n".join(
    [
        f"{REPLICA_1} 127.0.0.1:30004@31004,redis-replica-1 slave {MASTER_1} 0 1426238317239"
        " 4 connected",
        f"{MASTER_2} 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922",
        "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0"
        f" 1426238318243 3 connected 10923-16383 [10924->-{MASTER_2}]",
        f"{MASTER_1} 127.0.0.1:30001@31001,redis-node-1 myself,master - 0 0 1 connected 0-5460",
        "6ec23923021cf3ffec47632106199cb7f496ce01 :0@0 master,fail,noaddr - 1426238316232"
        " 1426238314222 5 disconnected",
    ]
)


def test_cluster_nodes_lines_are_read_as_documented() -> None:
    replica, second, third, first, gone = parse_cluster_nodes(DOCUMENTED)

    assert replica.is_replica
    assert replica.hostname == "redis-replica-1"
    assert replica.endpoint == "redis-replica-1:30004"
    assert replica.master_id == first.id
    assert (second.ip, second.port, second.bus_port, second.hostname) == (
        "127.0.0.1",
        30002,
        31002,
        "",
    )
    assert second.slot_count == 5462
    assert third.open_slots == 1
    assert third.slots == ((10923, 16383),)
    assert "myself" in first.flags
    assert first.config_epoch == 1
    assert gone.failed
    assert gone.pending
    assert not gone.connected


def test_slots_are_split_as_redis_cli_splits_them() -> None:
    assert slot_ranges(3) == [(0, 5460), (5461, 10922), (10923, 16383)]
    for masters in range(3, 12):
        ranges = slot_ranges(masters)
        assert ranges[0][0] == 0
        assert ranges[-1][1] == 16383
        assert all(end + 1 == start for (_, end), (start, _) in itertools.pairwise(ranges))
    assert format_ranges({0, 1, 2, 7, 9, 10}) == "0-2,7,9-10"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("redis-node-1:7379", "redis-node-1", 7379),
        ("[::1]:7380", "::1", 7380),
        ("10.0.0.5:1", "10.0.0.5", 1),
    ],
)
def test_node_addresses(text: str, host: str, port: int) -> None:
    assert NodeAddress.parse(text) == NodeAddress(host, port)


@pytest.mark.parametrize(
    "text", ["redis-node-1", ":7379", "host:0", "host:65536", "host:\uff17\uff13\uff17\uff19"]
)
def test_bad_node_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        NodeAddress.parse(text)


def node_id(number: int) -> str:
    return f"{number:040x}"


def view(number: int, lines: list[str], keys: int = 0) -> NodeView:
    """Node `number` (port 7000 + number) seeing `lines` ("N role master slots", N its own)."""
    text = []
    for line in lines:
        other, role, master, *slots = line.split()
        flags = ("myself," if int(other) == number else "") + role
        master_id = "-" if master == "-" else node_id(int(master))
        address = f"10.0.0.{other}:{7000 + int(other)}@{17000 + int(other)}"
        text.append(
            f"{node_id(int(other))} {address} {flags} {master_id} 0 0 1 connected {' '.join(slots)}"
        )
    return NodeView(
        address=NodeAddress(f"node-{number}", 7000 + number),
        info={"cluster_state": "ok"},
        nodes=parse_cluster_nodes("\n".join(text)),
        keys=keys,
        replication={},
    )


def test_two_clusters_among_the_nodes_are_refused() -> None:
    one = ["1 master - 0-16383", "2 slave 1", "3 slave 1"]
    other = ["4 master - 0-16383", "5 slave 4", "6 slave 4"]
    views = [view(n, one) for n in (1, 2, 3)] + [view(n, other) for n in (4, 5, 6)]

    with pytest.raises(Refused, match="node-1:7001 and node-4:7004 are in different clusters"):
        make_plan(views, replicas=1)


def test_a_node_that_came_back_empty_becomes_the_replica_of_the_master_without_one() -> None:
    # node 1 lost its disk; node 4, its replica, took over its slots
    cluster = [
        "2 master - 5461-10922",
        "3 master - 10923-16383",
        "4 master - 0-5460",
        "5 slave 2",
        "6 slave 3",
    ]
    views = [view(1, ["1 master -"])] + [view(n, cluster) for n in (2, 3, 4, 5, 6)]

    plan = make_plan(views, replicas=1)

    assert plan.meets == [views[0].address]
    assert plan.gateway == views[1].address
    assert plan.slots == []
    assert plan.epochs == []
    assert plan.replicate == [(views[0].address, views[3].address)]


def test_an_empty_node_that_must_become_a_replica_but_holds_keys_is_refused() -> None:
    cluster = ["1 master - 0-5460", "2 master - 5461-10922", "3 master - 10923-16383"]
    views = [view(n, cluster) for n in (1, 2, 3)]
    views.append(view(4, ["4 master -"], keys=3))

    with pytest.raises(Refused, match="node-4:7004 holds 3 keys and is in no cluster"):
        make_plan(views, replicas=0)
