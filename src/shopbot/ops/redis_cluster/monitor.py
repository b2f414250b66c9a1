"""`shopbot redis cluster monitor`: the check, every few seconds, as Prometheus metrics.

Serves `GET /metrics` (Prometheus text format), `GET /health` (alive) and
`GET /health/ready` (200 when the last check found the cluster healthy, else 503 with
the problems; the same JSON shape as the bot's and the webhook service's:
`{"status": "ok"|"unavailable", "checks": {"redis_cluster": "ok"|reason}}`).
"""

import asyncio
import contextlib
import time

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from shopbot.ops.redis_cluster.health import Health, Report, check_cluster
from shopbot.ops.redis_cluster.nodes import NodeAddress

log = structlog.get_logger(__name__)
PREFIX = "shopbot_redis_cluster"
MONITOR_KEY: web.AppKey["ClusterMonitor"] = web.AppKey("cluster_monitor")


class ClusterMonitor:
    """Checks the cluster of `addresses` every `interval` seconds (each node asked within
    `reply_timeout` seconds) and keeps the result in its own registry."""

    def __init__(
        self,
        addresses: list[NodeAddress],
        *,
        replicas: int = 1,
        interval: float = 5.0,
        reply_timeout: float = 2.0,
        password: str | None = None,
    ) -> None:
        self.addresses = addresses
        self.replicas = replicas
        self.interval = interval
        self.reply_timeout = reply_timeout
        self.password = password
        self.registry = CollectorRegistry()
        self.last: Report | None = None
        self._gauges = {
            name: Gauge(f"{PREFIX}_{name}", text, registry=self.registry)
            for name, text in GAUGES.items()
        }
        self._replicas_by_master = Gauge(
            f"{PREFIX}_master_replicas",
            "Replicas (not failed) of each master serving slots",
            ["master"],
            registry=self.registry,
        )

    async def check_once(self) -> Report:
        """One check; updates the metrics. A check that raised still counts: success 0."""
        previous = self.last
        try:
            report = await check_cluster(
                self.addresses,
                replicas=self.replicas,
                password=self.password,
                reply_timeout=self.reply_timeout,
            )
        except Exception as exc:  # the monitor must outlive any one failed check
            log.exception("redis cluster check failed")
            report = Report(health=Health.BROKEN, problems=[f"check failed: {type(exc).__name__}"])
            self._set("last_check_success", 0)
        else:
            self._set("last_check_success", 1 if report.nodes_answered else 0)
        self.last = report
        self._export(report)
        if (
            previous is None
            or previous.health != report.health
            or previous.problems != report.problems
        ):
            level = "info" if report.health is Health.HEALTHY else "warning"
            getattr(log, level)(
                "redis cluster checked",
                health=report.health.name.lower(),
                problems=report.problems,
                masters=report.masters,
                replicas=report.replicas,
                slots_assigned=report.slots_assigned,
            )
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Check until `stop` is set; the wait between checks ends early on stop."""
        while not stop.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    def _set(self, name: str, value: float) -> None:
        self._gauges[name].set(value)

    def _export(self, report: Report) -> None:
        self._set("state_ok", 1 if report.state_ok else 0)
        self._set("health", int(report.health))
        self._set("slots_assigned", report.slots_assigned)
        self._set("slots_ok", report.slots_ok)
        self._set("slots_pfail", report.slots_pfail)
        self._set("slots_fail", report.slots_fail)
        self._set("masters", report.masters)
        self._set("replicas", report.replicas)
        self._set("links_connected", report.links_connected)
        self._set("links_disconnected", report.links_disconnected)
        self._set("nodes_known", report.nodes_known)
        self._set("nodes_failed", report.nodes_failed)
        self._set("nodes_unreachable", report.nodes_given - report.nodes_answered)
        self._set("last_check_timestamp_seconds", time.time())
        self._replicas_by_master.clear()
        for master, count in report.replicas_by_master.items():
            self._replicas_by_master.labels(master=master).set(count)

    def readiness(self) -> tuple[int, dict[str, object]]:
        """(HTTP status, body) for /health/ready."""
        report = self.last
        if report is None:
            reason = "unknown: no check yet"
        elif report.health is Health.HEALTHY:
            return 200, {"status": "ok", "checks": {"redis_cluster": "ok"}}
        else:
            reason = f"{report.health.name.lower()}: {'; '.join(report.problems)}"
        return 503, {"status": "unavailable", "checks": {"redis_cluster": reason}}


GAUGES = {
    "state_ok": "1 when the first answering node reports cluster_state:ok",
    "health": "Verdict of the last check: 0 healthy, 1 degraded, 2 broken (check's exit code)",
    "slots_assigned": "Hash slots assigned to a node (of 16384)",
    "slots_ok": "Hash slots served by a master not suspected down (CLUSTER INFO)",
    "slots_pfail": "Hash slots on a master suspected down, PFAIL (CLUSTER INFO)",
    "slots_fail": "Hash slots on a failed master, FAIL (CLUSTER INFO)",
    "masters": "Masters serving slots, not failed",
    "replicas": "Replicas of those masters, not failed",
    "links_connected": "Node-to-node cluster bus links reported connected",
    "links_disconnected": "Node-to-node cluster bus links reported disconnected",
    "nodes_known": "Nodes the first answering node knows (itself included)",
    "nodes_failed": "Nodes flagged FAIL or PFAIL",
    "nodes_unreachable": "Given nodes that did not answer the last check",
    "last_check_timestamp_seconds": "Unix time of the last check",
    "last_check_success": "1 when the last check reached at least one node",
}


def monitor_app(monitor: ClusterMonitor) -> web.Application:
    app = web.Application()
    app[MONITOR_KEY] = monitor
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/health", _alive)
    app.router.add_get("/health/ready", _ready)
    return app


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[MONITOR_KEY].registry)
    # Text format 0.0.4, which every Prometheus 2.x scrapes (the deployment pins 2.42);
    # with ASCII metric names its body is the same as 1.0.0's.
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


async def _alive(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _ready(request: web.Request) -> web.Response:
    status, body = request.app[MONITOR_KEY].readiness()
    return web.json_response(body, status=status)
