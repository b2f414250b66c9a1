"""A stand-in for a journey's metrics until the real one feeds the dashboards' test: the
contract's application metrics (docs/monitoring.md) in a prometheus_client registry, moved
by a background task as users would (commands, top-ups, orders, a broadcast, a few errors
and 429s), and the exporters' standard metrics as text whose counters grow with time.
Served over HTTP, one path per Prometheus job."""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shopbot.http.serve_aiohttp import serve_aiohttp

HANDLERS = {
    "start": "message",
    "catalog": "callback_query",
    "buy": "callback_query",
    "topup": "callback_query",
    "admin_stats": "message",
}
JOBS = ("app", "webhook", "redis-cluster-monitor", "node", "postgres", "redis", "nginx")
STEP_SECONDS = 0.05


class AppMetrics:
    """The contract's metrics, one registry per process (a bot replica, the webhook service)."""

    def __init__(self, colour: str) -> None:
        r = self.registry = CollectorRegistry()
        Gauge("shopbot_build_info", "build", ["version", "revision", "colour"], registry=r).labels(
            "1.5.0", "def5678", colour
        ).set(1)
        self.updates = Counter(
            "shopbot_updates", "u", ["update_type", "handler", "outcome"], registry=r
        )
        self.update_seconds = Histogram(
            "shopbot_update_duration_seconds", "d", ["update_type", "handler"], registry=r
        )
        self.telegram = Counter(
            "shopbot_telegram_api_requests", "t", ["method", "result"], registry=r
        )
        self.telegram_seconds = Histogram(
            "shopbot_telegram_api_duration_seconds", "d", ["method"], registry=r
        )
        self.payments = Counter("shopbot_payments", "p", ["provider", "status"], registry=r)
        self.pending = Gauge("shopbot_payments_pending", "p", ["provider"], registry=r)
        self.webhooks = Counter("shopbot_heleket_webhooks", "w", ["outcome"], registry=r)
        self.credited = Counter("shopbot_credited", "c", ["provider", "currency"], registry=r)
        self.orders = Counter("shopbot_orders", "o", ["status"], registry=r)
        self.deliveries = Counter("shopbot_deliveries", "d", ["kind", "outcome"], registry=r)
        self.broadcast = Counter("shopbot_broadcast_messages", "b", ["outcome"], registry=r)
        self.breaker = Gauge("shopbot_circuit_breaker_state", "b", ["breaker"], registry=r)
        self.db_seconds = Histogram(
            "shopbot_db_query_duration_seconds", "d", ["operation"], registry=r
        )
        self.redis_seconds = Histogram(
            "shopbot_redis_command_duration_seconds", "d", ["command"], registry=r
        )
        self.ledger_ok = Gauge("shopbot_ledger_check_ok", "l", registry=r)
        self.ledger_at = Gauge("shopbot_ledger_check_timestamp_seconds", "l", registry=r)
        self.http = Counter("shopbot_http_requests", "h", ["handler", "method", "code"], registry=r)
        self.http_seconds = Histogram(
            "shopbot_http_request_duration_seconds", "h", ["handler", "method"], registry=r
        )
        for breaker in ("heleket", "telegram"):
            self.breaker.labels(breaker).set(0)
        self.ledger_ok.set(1)

    def step(self, rng: random.Random) -> None:
        """One user's move: an update, its API calls, sometimes a payment and an order."""
        handler = rng.choice(list(HANDLERS))
        outcome = "error" if rng.random() < 0.03 else "ok"
        self.updates.labels(HANDLERS[handler], handler, outcome).inc()
        self.update_seconds.labels(HANDLERS[handler], handler).observe(rng.uniform(0.005, 0.4))
        result = "retry_after" if rng.random() < 0.05 else "ok"
        self.telegram.labels("sendMessage", result).inc()
        self.telegram_seconds.labels("sendMessage").observe(rng.uniform(0.05, 0.3))
        self.db_seconds.labels(rng.choice(["select", "insert", "update"])).observe(
            rng.uniform(0.001, 0.02)
        )
        self.redis_seconds.labels(rng.choice(["get", "set", "evalsha"])).observe(
            rng.uniform(0.0002, 0.003)
        )
        if handler == "topup":
            provider = rng.choice(["heleket", "stars"])
            self.payments.labels(provider, "created").inc()
            if rng.random() < 0.7:
                self.payments.labels(provider, "paid").inc()
                currency = "USDT" if provider == "heleket" else "XTR"
                self.credited.labels(provider, currency).inc(rng.choice([5, 10, 25]))
                if provider == "heleket":
                    self.webhooks.labels("accepted").inc()
                    self.http.labels("/webhook/heleket", "POST", "200").inc()
                    self.http_seconds.labels("/webhook/heleket", "POST").observe(
                        rng.uniform(0.01, 0.1)
                    )
            self.pending.labels(provider).set(rng.randint(0, 4))
        if handler == "buy":
            status = "completed" if rng.random() < 0.9 else "refused"
            self.orders.labels(status).inc()
            if status == "completed":
                self.deliveries.labels("file", "ok").inc()
        if handler == "admin_stats":
            self.broadcast.labels("sent" if rng.random() < 0.9 else "blocked").inc()
        self.ledger_at.set(time.time())


def exporters_text(elapsed: float) -> dict[str, str]:
    """node, postgres, redis, nginx exporters and the cluster monitor, by job: the
    standard metric names the Infrastructure dashboard reads, counters growing with time."""
    t = 1000 + elapsed
    fs = 'device="/dev/sda1",fstype="ext4",mountpoint="/"'
    deploy = 'environment="production"'
    return {
        "node": "\n".join(
            [
                f'node_cpu_seconds_total{{cpu="0",mode="idle"}} {0.6 * t}',
                f'node_cpu_seconds_total{{cpu="0",mode="user"}} {0.4 * t}',
                "node_memory_MemAvailable_bytes 6e9",
                "node_memory_MemTotal_bytes 1.6e10",
                f"node_filesystem_avail_bytes{{{fs}}} 4e10",
                f"node_filesystem_size_bytes{{{fs}}} 1e11",
                f'node_network_receive_bytes_total{{device="eth0"}} {2e5 * t}',
                f'node_network_transmit_bytes_total{{device="eth0"}} {1e5 * t}',
                # the deployment tooling's textfile (docs/monitoring.md#deployment-metrics)
                f'shopbot_deployment_runs_total{{{deploy},outcome="succeeded"}} {int(t / 2)}',
                f'shopbot_deployment_runs_total{{{deploy},outcome="rolled_back"}} {int(t / 20)}',
                f"shopbot_deployment_duration_seconds_sum{{{deploy}}} {95 * int(t / 2)}",
                f"shopbot_deployment_duration_seconds_count{{{deploy}}} {int(t / 2)}",
                f"shopbot_deployment_recovery_seconds_sum{{{deploy}}} {300 * int(t / 20)}",
                f"shopbot_deployment_recovery_seconds_count{{{deploy}}} {int(t / 20)}",
                f"shopbot_deployment_last_success_timestamp_seconds{{{deploy}}} {time.time() - 60}",
            ]
        ),
        "postgres": "\n".join(
            [
                "pg_up 1",
                f'pg_stat_database_xact_commit{{datname="shopbot"}} {50 * t}',
                f'pg_stat_database_xact_rollback{{datname="shopbot"}} {0.1 * t}',
                'pg_stat_database_numbackends{datname="shopbot"} 12',
                'pg_replica_lag_seconds{slot="replica_1"} 0.4',
            ]
        ),
        "redis": "\n".join(
            [
                "redis_up 1",
                f"redis_commands_processed_total {300 * t}",
                "redis_memory_used_bytes 3.2e7",
                "redis_connected_clients 9",
            ]
        ),
        "nginx": "\n".join(
            [
                "nginx_up 1",
                f"nginx_http_requests_total {40 * t}",
                "nginx_connections_active 7",
                "nginx_connections_waiting 3",
            ]
        ),
        "redis-cluster-monitor": "\n".join(
            [
                "shopbot_redis_cluster_health 0",
                "shopbot_redis_cluster_state_ok 1",
                "shopbot_redis_cluster_masters 3",
                "shopbot_redis_cluster_replicas 3",
                "shopbot_redis_cluster_slots_ok 16384",
            ]
        ),
    }


@asynccontextmanager
async def journey_exporter() -> AsyncIterator[str]:
    """Serves /<job>/metrics for every job in JOBS while users move; yields host:port."""
    bot, webhook = AppMetrics("blue"), AppMetrics("blue")
    rng = random.Random(12)
    started = time.monotonic()

    async def users() -> None:
        while True:
            bot.step(rng)
            webhook.http.labels("/health/ready", "GET", "200").inc()
            webhook.http_seconds.labels("/health/ready", "GET").observe(rng.uniform(0.001, 0.01))
            await asyncio.sleep(STEP_SECONDS)

    async def metrics(request: web.Request) -> web.Response:
        job = request.match_info["job"]
        if job in ("app", "webhook"):
            body = generate_latest((bot if job == "app" else webhook).registry).decode()
        else:
            body = exporters_text(time.monotonic() - started)[job] + "\n"
        return web.Response(text=body, content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/{job}/metrics", metrics)
    task = asyncio.create_task(users())
    try:
        async with serve_aiohttp(app, shutdown_timeout=1.0) as url:
            yield url.removeprefix("http://")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
