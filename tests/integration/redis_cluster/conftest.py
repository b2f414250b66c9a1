from collections.abc import Iterator

import pytest

from shopbot.ops.redis_cluster.create import create_cluster
from shopbot.ops.redis_cluster.health import Health
from shopbot.ops.redis_cluster.nodes import NodeAddress
from tests.redis_cluster import LocalRedisCluster, empty_nodes


@pytest.fixture
def six_nodes() -> Iterator[LocalRedisCluster]:
    """Six cluster-enabled redis-server processes, each knowing only itself."""
    with empty_nodes(6) as cluster:
        yield cluster


@pytest.fixture
async def formed(six_nodes: LocalRedisCluster) -> LocalRedisCluster:
    """The six nodes formed into 3 masters + 3 replicas by the creator (in-process: the
    command itself is tested in test_create.py); master i is nodes[i], its replica
    nodes[i + 3]."""
    addresses = [NodeAddress.parse(node) for node in six_nodes.nodes]
    health = await create_cluster(addresses, replicas=1, say=lambda _: None)
    assert health is Health.HEALTHY
    return six_nodes
