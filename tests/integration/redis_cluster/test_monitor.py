"""`shopbot redis cluster monitor`: the metrics it serves (read with prometheus_client's
own parser), its readiness before and after a master dies, and a clean SIGTERM."""

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shopbot.http.serve import free_port
from tests.integration.cli.harness import clean_env
from tests.integration.redis_cluster.helpers import promoted
from tests.redis_cluster import HOST, LocalRedisCluster

pytestmark = pytest.mark.subprocess


async def metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """Every sample of /metrics by name (labels appended as name{label=value})."""
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


async def ready_answer(http: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
    answer = await http.get("/health/ready")
    return answer.status_code, answer.json()


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 40.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.2)


class Monitor:
    def __init__(self, process: asyncio.subprocess.Process, http: httpx.AsyncClient) -> None:
        self.process = process
        self.http = http


@pytest.fixture
async def monitor(formed: LocalRedisCluster, tmp_path: Path) -> AsyncIterator[Monitor]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shopbot.cli import main; main()",
        *("redis", "cluster", "monitor", "--host", HOST, "--port", str(port)),
        *("--interval", "0.2", *formed.nodes),
        cwd=tmp_path,
        env=clean_env(None),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=5) as http:
        try:
            yield Monitor(process, http)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_the_monitor_serves_the_cluster_as_metrics_and_readiness(
    monitor: Monitor, formed: LocalRedisCluster
) -> None:
    async def answering() -> bool:
        try:
            return (await monitor.http.get("/health")).status_code == 200
        except httpx.TransportError:
            return False

    await until(answering, "the monitor serves HTTP")
    await until(lambda: _is_ready(monitor), "the first healthy check")
    started = time.time()
    values = await metrics(monitor.http)

    prefix = "shopbot_redis_cluster_"
    assert values[prefix + "state_ok"] == 1
    assert values[prefix + "health"] == 0
    assert values[prefix + "slots_assigned"] == 16384
    assert values[prefix + "slots_ok"] == 16384
    assert values[prefix + "slots_fail"] == 0
    assert values[prefix + "masters"] == 3
    assert values[prefix + "replicas"] == 3
    assert values[prefix + "links_connected"] == 30
    assert values[prefix + "links_disconnected"] == 0
    assert values[prefix + "nodes_unreachable"] == 0
    assert values[prefix + "last_check_success"] == 1
    assert started - 5 < values[prefix + "last_check_timestamp_seconds"] <= time.time()
    for master in formed.nodes[:3]:
        assert values[f"{prefix}master_replicas{{master={master}}}"] == 1
    assert await ready_answer(monitor.http) == (
        200,
        {"status": "ok", "checks": {"redis_cluster": "ok"}},
    )

    formed.kill(formed.ports[0])
    await until(lambda: _promoted(formed), "the replica is promoted")
    await until(lambda: _after_failover(monitor), "the monitor sees the failover's outcome")
    values = await metrics(monitor.http)
    assert values[prefix + "health"] == 1
    assert values[prefix + "state_ok"] == 1
    assert values[prefix + "masters"] == 3
    assert values[prefix + "replicas"] == 2
    assert values[prefix + "nodes_unreachable"] == 1
    assert values[prefix + "nodes_failed"] == 1
    assert values[f"{prefix}master_replicas{{master={formed.nodes[3]}}}"] == 0
    status, body = await ready_answer(monitor.http)
    assert status == 503
    reason = body["checks"]["redis_cluster"]  # type: ignore[index]
    assert f"master {formed.nodes[3]} has 0 replica(s), 1 wanted" in reason

    monitor.process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(monitor.process.communicate(), timeout=15)
    assert monitor.process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "Traceback" not in log
    assert "redis cluster checked" in log


async def _is_ready(monitor: Monitor) -> bool:
    return (await ready_answer(monitor.http))[0] == 200


async def _promoted(cluster: LocalRedisCluster) -> bool:
    return await asyncio.to_thread(promoted, cluster, 0, 3)


async def _after_failover(monitor: Monitor) -> bool:
    """A check after the promotion (earlier ones saw the master suspected, then failed
    with its slots unserved): degraded, two replicas left."""
    status, body = await ready_answer(monitor.http)
    values = await metrics(monitor.http)
    return (
        status == 503
        and "degraded:" in json.dumps(body)
        and values["shopbot_redis_cluster_replicas"] == 2
    )
