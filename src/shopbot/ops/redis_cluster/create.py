"""`shopbot redis cluster create`: form a cluster like `redis-cli --cluster create`, and
on a cluster already formed from these nodes do nothing.

Steps (each printed): wait for every node to answer (they may still be starting, as in
Compose); read what each says and decide the plan (`plan.py`, where refusals happen);
give each fresh node its own config epoch; `CLUSTER MEET` the fresh nodes from one node;
wait until every node knows every other; `CLUSTER ADDSLOTSRANGE` on the masters; wait
until every node sees all 16384 slots assigned; `CLUSTER REPLICATE` on the replicas; wait
for `cluster_state:ok` with the replicas in place on every node, then for each replica's
first sync with its master. The creator sends no RESET, FLUSHALL or FLUSHDB, ever.
"""

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import redis
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
)

from shopbot.ops.redis_cluster.health import Health, assess, gather_views, render
from shopbot.ops.redis_cluster.nodes import SLOTS, NodeAddress, NodeView, connect, read_view
from shopbot.ops.redis_cluster.nodes import command as command_on
from shopbot.ops.redis_cluster.plan import (
    CreateProblem,
    Plan,
    Refused,
    make_plan,
    master_count,
)

Say = Callable[[str], None]
POLL = 0.1  # seconds between looks while the cluster's gossip spreads a change
RESOLVE_TIMEOUT = 2.0  # seconds for a TCP connection to one of a node's addresses


def _retryable(error: BaseException) -> bool:
    # AuthenticationError is a ConnectionError in redis-py, but waiting cannot fix it.
    return isinstance(error, redis.ConnectionError | redis.TimeoutError | OSError) and not (
        isinstance(error, redis.AuthenticationError)
    )


async def create_cluster(
    addresses: list[NodeAddress],
    *,
    replicas: int,
    say: Say,
    password: str | None = None,
    wait_timeout: float = 60.0,
    dry_run: bool = False,
) -> Health:
    """Form (or complete) the cluster of `addresses` with `replicas` replicas per master.
    `wait_timeout` bounds, in seconds, the wait for the nodes and each wait for the cluster.

    Returns the final verdict (HEALTHY after a successful run; a formed cluster that
    needs nothing returns its current verdict). Raises Refused (exit 2, nothing changed)
    or CreateProblem (exit 1: a node did not answer, or the cluster did not settle in
    time)."""
    master_count(len(addresses), replicas)  # a wrong count is refused before any waiting
    views = await _wait_for_nodes(addresses, say=say, password=password, wait_timeout=wait_timeout)
    plan = make_plan(views, replicas)
    if plan.empty:
        report = assess(views, {}, replicas=replicas)
        if report.health is Health.HEALTHY:
            say(
                f"the cluster of these {len(addresses)} nodes is already formed and healthy: "
                "nothing to do"
            )
        else:
            for line in render(report):
                say(line)
            say("the cluster is formed but not healthy; nothing is safe for the creator to change")
        return report.health
    say("plan:")
    for line in plan.describe():
        say(line)
    if dry_run:
        say("dry run: nothing changed")
        return Health.HEALTHY
    by_address = {view.address: view for view in views}
    await _apply(plan, by_address, say=say, password=password, wait_timeout=wait_timeout)
    report = assess(*await gather_views(addresses, password=password), replicas=replicas)
    say(
        f"cluster formed: {report.masters} masters, {report.replicas} replicas, "
        f"{report.slots_assigned} slots assigned, cluster_state "
        f"{'ok' if report.state_ok else 'fail'}"
    )
    return report.health


async def _wait_for_nodes(
    addresses: list[NodeAddress], *, say: Say, password: str | None, wait_timeout: float
) -> list[NodeView]:
    say(f"waiting for {len(addresses)} nodes (up to {wait_timeout:g} s)")
    results = await asyncio.gather(
        *(
            _wait_for_node(address, say=say, password=password, wait_timeout=wait_timeout)
            for address in addresses
        ),
        return_exceptions=True,
    )
    problems = [result for result in results if isinstance(result, BaseException)]
    refusals = [problem for problem in problems if isinstance(problem, Refused)]
    if refusals:
        raise refusals[0]
    if problems:
        if not all(isinstance(problem, CreateProblem) for problem in problems):
            raise problems[0]
        raise CreateProblem("; ".join(str(problem) for problem in problems))
    return [result for result in results if isinstance(result, NodeView)]


async def _wait_for_node(
    address: NodeAddress, *, say: Say, password: str | None, wait_timeout: float
) -> NodeView:
    started = time.monotonic()

    def waiting(state: RetryCallState) -> None:
        if state.attempt_number == 1 and state.outcome is not None:
            error = type(state.outcome.exception()).__name__
            say(f"  {address} not answering yet ({error}); retrying")

    retrying = AsyncRetrying(
        stop=stop_after_delay(wait_timeout),
        wait=wait_exponential(multiplier=0.1, max=2.0),
        retry=retry_if_exception(_retryable),
        before_sleep=waiting,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                async with connect(address, password=password) as client:
                    view = await read_view(client, address)
    except redis.AuthenticationError as exc:
        raise Refused(f"{address} refused the password ({exc}); set REDISCLI_AUTH") from None
    except redis.ResponseError as exc:
        if "cluster support disabled" in str(exc):
            raise Refused(f"{address} runs without `cluster-enabled yes`; left untouched") from None
        raise CreateProblem(f"{address} answered {exc}") from None
    except (redis.RedisError, OSError) as exc:
        raise CreateProblem(
            f"{address} did not answer within {wait_timeout:g} s ({type(exc).__name__}: {exc})"
        ) from None
    state = "empty" if not view.keys else f"{view.keys} keys"
    membership = "in no cluster" if view.fresh else f"in a cluster of {len(view.members)}"
    after = time.monotonic() - started
    say(f"  {address} answers: node {view.myself.id[:8]}, {state}, {membership} ({after:.1f} s)")
    return view


async def _apply(
    plan: Plan,
    views: dict[NodeAddress, NodeView],
    *,
    say: Say,
    password: str | None,
    wait_timeout: float,
) -> None:
    addresses = list(views)
    settling: dict[str, Any] = {"say": say, "password": password, "wait_timeout": wait_timeout}
    ids = {address: view.myself.id for address, view in views.items()}

    async def on(address: NodeAddress, *command: object) -> None:
        async with connect(address, password=password) as client:
            await command_on(client, *command)

    for address, epoch in plan.epochs:
        await on(address, "CLUSTER", "SET-CONFIG-EPOCH", epoch)
    if plan.meets and plan.gateway is not None:
        for address in plan.meets:
            ip = await _resolve(address)
            bus = views[address].myself.bus_port
            say(f"meeting {address} ({ip}:{address.port}, bus {bus}) from {plan.gateway}")
            await on(plan.gateway, "CLUSTER", "MEET", ip, address.port, bus)
        await _settle(
            "every node knows every other",
            addresses,
            lambda view: _knows(view, set(ids.values())),
            **settling,
        )
    for address, ranges in plan.slots:
        flat = [bound for pair in ranges for bound in pair]
        say(f"assigning {sum(e - s + 1 for s, e in ranges)} slots to {address}")
        await on(address, "CLUSTER", "ADDSLOTSRANGE", *flat)
    if plan.slots:
        await _settle(
            f"every node sees all {SLOTS} slots assigned",
            addresses,
            lambda view: view.info_int("cluster_slots_assigned") == SLOTS,
            **settling,
        )
    for replica, master in plan.replicate:
        say(f"{replica} replicates {master}")
        await on(replica, "CLUSTER", "REPLICATE", ids[master])
    pairs = {ids[replica]: ids[master] for replica, master in plan.replicate}
    await _settle(
        "cluster_state:ok with the replicas in place on every node",
        addresses,
        lambda view: view.state_ok and _follows(view, pairs),
        **settling,
    )
    # Until its first sync a replica cannot take over: a master lost before that loses
    # its slots for good (the replica refuses: "Disconnected from master for longer than
    # allowed"). redis-cli does not wait for this; a formed cluster here means HA is on.
    await _settle("every replica synced with its master", addresses, _synced, **settling)


async def _resolve(address: NodeAddress) -> str:
    """The node's IP, for CLUSTER MEET, which takes no hostname ("Invalid node address
    specified"): the first of the name's addresses that accepts a connection on the
    node's port (`localhost` may resolve to ::1 first while the node listens on 127.0.0.1
    only). Raises CreateProblem when none does."""
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    for *_, sockaddr in found:
        ip = str(sockaddr[0])
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                _, writer = await asyncio.open_connection(ip, address.port)
        except (OSError, TimeoutError):
            continue
        writer.close()
        await writer.wait_closed()
        return ip
    raise CreateProblem(f"no address of {address.host} accepts connections on {address.port}")


def _synced(view: NodeView) -> bool:
    return view.synced


def _knows(view: NodeView, ids: set[str]) -> bool:
    return ids <= {node.id for node in view.members}


def _follows(view: NodeView, pairs: dict[str, str]) -> bool:
    masters = {node.id: node.master_id for node in view.members if node.is_replica}
    return all(masters.get(replica) == master for replica, master in pairs.items())


async def _settle(
    what: str,
    addresses: list[NodeAddress],
    test: Callable[[NodeView], bool],
    *,
    say: Say,
    password: str | None,
    wait_timeout: float,
) -> None:
    """Poll every node until `test` holds for each one's view; CreateProblem after
    `wait_timeout` seconds."""
    started = time.monotonic()

    async def everywhere() -> bool:
        views, failures = await gather_views(addresses, password=password)
        return not failures and all(test(view) for view in views)

    retrying = AsyncRetrying(
        stop=stop_after_delay(wait_timeout),
        wait=wait_fixed(POLL),
        retry=retry_if_result(lambda done: not done) | retry_if_exception(_retryable),
    )
    try:
        await retrying(everywhere)
    except RetryError:
        raise CreateProblem(f"not settled within {wait_timeout:g} s: {what}") from None
    say(f"  {what} ({time.monotonic() - started:.1f} s)")
