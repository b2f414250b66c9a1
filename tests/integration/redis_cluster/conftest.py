from collections.abc import Iterator

import pytest

from tests.redis_cluster import LocalRedisCluster, empty_nodes


@pytest.fixture
def six_nodes() -> Iterator[LocalRedisCluster]:
    """Six cluster-enabled redis-server processes, each knowing only itself."""
    with empty_nodes(6) as cluster:
        yield cluster
