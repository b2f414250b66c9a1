"""`shopbot redis cluster create|check|monitor`: the Redis Cluster creator and monitor
(docs/cli.md, "Redis Cluster"). No settings needed: the nodes are the arguments, a
password comes from REDISCLI_AUTH (redis-cli's own variable) and is never printed."""

import asyncio
import os
import sys
from typing import Any

import click
import structlog

from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.http.stop_signals import on_stop_signal
from shopbot.observability.logging import configure_logging
from shopbot.ops.redis_cluster.create import create_cluster
from shopbot.ops.redis_cluster.health import check_cluster, render
from shopbot.ops.redis_cluster.monitor import ClusterMonitor, monitor_app
from shopbot.ops.redis_cluster.nodes import NodeAddress
from shopbot.ops.redis_cluster.plan import CreateProblem

PASSWORD_VARIABLE = "REDISCLI_AUTH"  # noqa: S105 - a variable name, not a password
log = structlog.get_logger(__name__)
MONITOR_PORT = 9121  # the port redis_exporter made the usual one for Redis metrics


class NodeParam(click.ParamType[NodeAddress]):
    name = "host:port"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> NodeAddress:
        if isinstance(value, NodeAddress):
            return value
        try:
            return NodeAddress.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


NODE = NodeParam()
nodes_argument = click.argument("nodes", nargs=-1, required=True, type=NODE)
replicas_option = click.option(
    "--replicas",
    type=click.IntRange(0, 5),
    default=1,
    show_default=True,
    help="replicas per master",
)


def _password() -> str | None:
    return os.environ.get(PASSWORD_VARIABLE) or None


@click.group()
def redis() -> None:
    """Redis tools."""


@redis.group()
def cluster() -> None:
    """Form, check and watch a Redis Cluster (exit codes: docs/cli.md)."""


@cluster.command()
@nodes_argument
@replicas_option
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="seconds to wait for the nodes to answer, and for each step to spread",
)
@click.option("--dry-run", is_flag=True, help="print the plan and change nothing")
def create(nodes: tuple[NodeAddress, ...], replicas: int, timeout: float, dry_run: bool) -> None:
    """Form a cluster of NODES (HOST:PORT; the first len(NODES)/(replicas+1) become the
    masters). Waits for nodes still starting. On a healthy cluster of these nodes it does
    nothing (exit 0). It never resets or flushes a node: a node holding keys or in
    another cluster is refused by name, nothing changed (exit 2). Exit 1 when a node did
    not answer or the cluster did not settle within --timeout."""
    try:
        health = asyncio.run(
            create_cluster(
                list(nodes),
                replicas=replicas,
                say=click.echo,
                password=_password(),
                wait_timeout=timeout,
                dry_run=dry_run,
            )
        )
    except CreateProblem as exc:
        click.echo(f"shopbot: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(int(health))


@cluster.command()
@nodes_argument
@replicas_option
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=2.0,
    show_default=True,
    help="seconds each node may take to answer",
)
def check(nodes: tuple[NodeAddress, ...], replicas: int, timeout: float) -> None:
    """Slot coverage, masters, replicas per master, links and cluster_state of the cluster
    NODES belong to, as a table. Exit 0 healthy, 1 degraded, 2 broken."""
    report = asyncio.run(
        check_cluster(list(nodes), replicas=replicas, password=_password(), reply_timeout=timeout)
    )
    for line in render(report):
        click.echo(line)
    sys.exit(int(report.health))


@cluster.command()
@nodes_argument
@replicas_option
@click.option("--host", default="0.0.0.0", show_default=True, help="address to serve on")  # noqa: S104 - runs in a container; nginx does not route to it
@click.option("--port", type=click.IntRange(0, 65535), default=MONITOR_PORT, show_default=True)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="seconds between checks",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=2.0,
    show_default=True,
    help="seconds each node may take to answer",
)
def monitor(
    nodes: tuple[NodeAddress, ...],
    replicas: int,
    host: str,
    port: int,
    interval: float,
    timeout: float,
) -> None:
    """Check the cluster every --interval seconds and serve the result as Prometheus
    metrics on /metrics (shopbot_redis_cluster_*), with /health and /health/ready (200
    when the last check found it healthy). Stops on SIGTERM or SIGINT, exit 0."""
    configure_logging(level="INFO")
    watcher = ClusterMonitor(
        list(nodes),
        replicas=replicas,
        interval=interval,
        reply_timeout=timeout,
        password=_password(),
    )
    asyncio.run(_serve(watcher, host, port))


async def _serve(watcher: ClusterMonitor, host: str, port: int) -> None:
    stop = asyncio.Event()
    async with serve_aiohttp(monitor_app(watcher), host=host, port=port) as url:
        log.info("redis cluster monitor serving", metrics=f"{url}/metrics")
        with on_stop_signal(stop.set):
            await watcher.run(stop)
