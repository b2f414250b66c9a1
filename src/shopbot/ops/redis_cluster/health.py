"""The verdict on a Redis Cluster from what its nodes say: healthy, degraded or broken.

Exit codes of `shopbot redis cluster check` (docs/cli.md): 0 healthy; 1 degraded (it
serves every slot, but a master lacks a replica, a node is down or suspected, a link is
disconnected, a given node is unreachable or outside the cluster, slots are migrating,
or the nodes do not yet agree on the slot map); 2 broken (a slot is unassigned or served
by a failed master, a node reports `cluster_state:fail`, or no node answered).
"""

import asyncio
import enum
from dataclasses import dataclass, field

import redis

from shopbot.ops.redis_cluster.nodes import (
    SLOTS,
    ClusterNode,
    NodeAddress,
    NodeView,
    format_ranges,
    read_view_of,
)


class Health(enum.IntEnum):
    """Also the exit code of `shopbot redis cluster check`."""

    HEALTHY = 0
    DEGRADED = 1
    BROKEN = 2


@dataclass
class Report:
    """One check: counts as the monitor exports them, problems as lines for people."""

    health: Health = Health.HEALTHY
    problems: list[str] = field(default_factory=list)
    state_ok: bool = False
    slots_assigned: int = 0
    slots_ok: int = 0
    slots_pfail: int = 0
    slots_fail: int = 0
    masters: int = 0  # masters serving slots, not failed
    replicas: int = 0  # replicas of those masters, not failed
    replicas_by_master: dict[str, int] = field(default_factory=dict)  # endpoint -> count
    links_connected: int = 0  # node-to-node links, each reachable node's side counted
    links_disconnected: int = 0
    nodes_known: int = 0
    nodes_failed: int = 0
    nodes_answered: int = 0
    nodes_given: int = 0
    reference: NodeView | None = None  # the view the table shows

    def flag(self, health: Health, problem: str) -> None:
        self.health = max(self.health, health)
        self.problems.append(problem)


async def gather_views(
    addresses: list[NodeAddress], *, password: str | None = None, reply_timeout: float = 2.0
) -> tuple[list[NodeView], dict[NodeAddress, str]]:
    """Ask every node at once; returns the views of those that answered (in the given
    order) and, for the others, a short reason (exception type and message; a node's
    error never contains the password)."""
    results = await asyncio.gather(
        *(
            read_view_of(address, password=password, reply_timeout=reply_timeout)
            for address in addresses
        ),
        return_exceptions=True,
    )
    views: list[NodeView] = []
    failures: dict[NodeAddress, str] = {}
    for address, result in zip(addresses, results, strict=True):
        if isinstance(result, NodeView):
            views.append(result)
        elif isinstance(result, redis.RedisError | OSError):
            failures[address] = f"{type(result).__name__}: {result}"
        else:
            raise result
    return views, failures


def assess(views: list[NodeView], failures: dict[NodeAddress, str], *, replicas: int = 1) -> Report:
    """The verdict; `replicas` is how many replicas each master should have."""
    report = Report(nodes_given=len(views) + len(failures), nodes_answered=len(views))
    for address, reason in failures.items():
        report.flag(Health.DEGRADED, f"{address} does not answer ({reason})")
    if not views:
        report.flag(Health.BROKEN, "no node answered")
        return report
    reference = views[0]
    report.reference = reference
    _slots(report, reference)
    _roles(report, reference, replicas)
    _agreement(report, views, reference)
    return report


def _slots(report: Report, view: NodeView) -> None:
    report.state_ok = view.state_ok
    report.slots_ok = view.info_int("cluster_slots_ok")
    report.slots_pfail = view.info_int("cluster_slots_pfail")
    report.slots_fail = view.info_int("cluster_slots_fail")
    owned: set[int] = set()
    for node in view.members:
        owned |= node.slot_set()
    report.slots_assigned = len(owned)
    if len(owned) < SLOTS:
        missing = set(range(SLOTS)) - owned
        report.flag(Health.BROKEN, f"{len(missing)} slots unassigned: {format_ranges(missing)}")
    dead = [node for node in view.members if node.slots and node.failed]
    for node in dead:
        report.flag(Health.BROKEN, f"{node.slot_count} slots on failed master {node.endpoint}")
    if report.slots_pfail:
        report.flag(Health.DEGRADED, f"{report.slots_pfail} slots on a master suspected down")
    open_slots = sum(node.open_slots for node in view.members)
    if open_slots:
        report.flag(Health.DEGRADED, f"{open_slots} slots are migrating or importing")


def _roles(report: Report, view: NodeView, replicas: int) -> None:
    members = view.members
    report.nodes_known = len(members)
    by_id = {node.id: node for node in members}
    masters = [node for node in members if node.is_master and node.slots and not node.failed]
    report.masters = len(masters)
    for master in masters:
        mine = [
            node
            for node in members
            if node.is_replica and node.master_id == master.id and not node.failed
        ]
        report.replicas_by_master[master.endpoint] = len(mine)
        report.replicas += len(mine)
        if len(mine) < replicas:
            report.flag(
                Health.DEGRADED,
                f"master {master.endpoint} has {len(mine)} replica(s), {replicas} wanted",
            )
    for node in members:
        if node.failed or node.suspected:
            report.nodes_failed += 1
            state = "failed" if node.failed else "suspected down (PFAIL)"
            report.flag(Health.DEGRADED, f"node {node.endpoint} is {state}")
        elif node.is_master and not node.slots:
            report.flag(Health.DEGRADED, f"master {node.endpoint} serves no slots")
        elif node.is_replica and node.master_id not in by_id:
            report.flag(Health.DEGRADED, f"replica {node.endpoint} follows an unknown master")


def _agreement(report: Report, views: list[NodeView], reference: NodeView) -> None:
    reference_ids = {node.id for node in reference.members}
    expected_map = _slot_map(reference)
    for view in views:
        if not view.synced:
            link = view.replication.get("master_link_status", "unknown")
            report.flag(
                Health.DEGRADED,
                f"replica {view.address} is not synced with its master (master_link_status {link})",
            )
        if not view.state_ok:
            report.flag(Health.BROKEN, f"{view.address} reports cluster_state:fail")
        if view.myself.id not in reference_ids:
            report.flag(Health.DEGRADED, f"{view.address} is not part of this cluster")
            continue
        if view is not reference and _slot_map(view) != expected_map:
            report.flag(Health.DEGRADED, f"{view.address} does not agree on the slot map yet")
        for node in view.members:
            if "myself" in node.flags:
                continue
            if node.connected:
                report.links_connected += 1
            else:
                report.links_disconnected += 1
                report.flag(
                    Health.DEGRADED, f"link {view.address} -> {node.endpoint} is disconnected"
                )


def _slot_map(view: NodeView) -> dict[str, tuple[tuple[int, int], ...]]:
    return {node.id: node.slots for node in view.members if node.slots}


def render(report: Report) -> list[str]:
    """The check as lines: one row per node of the reference view, then the totals and
    the verdict."""
    lines: list[str] = []
    if report.reference is not None:
        lines += _table(report.reference)
        lines.append("")
    state = "ok" if report.state_ok else "fail"
    lines += [
        f"cluster_state: {state} (as {report.reference.address} sees it)"
        if report.reference
        else "cluster_state: unknown",
        f"slots: {report.slots_assigned}/{SLOTS} assigned, {report.slots_ok} ok, "
        f"{report.slots_pfail} pfail, {report.slots_fail} fail",
        f"masters: {report.masters}, replicas: {report.replicas} "
        f"({_per_master(report.replicas_by_master)})",
        f"links: {report.links_connected} connected, {report.links_disconnected} disconnected",
        f"nodes: {report.nodes_answered}/{report.nodes_given} given answered, "
        f"{report.nodes_known} known, {report.nodes_failed} failed or suspected",
    ]
    lines += [f"problem: {problem}" for problem in report.problems]
    lines.append(f"verdict: {report.health.name.lower()} (exit {int(report.health)})")
    return lines


def _per_master(counts: dict[str, int]) -> str:
    return ", ".join(f"{endpoint}: {count}" for endpoint, count in counts.items()) or "-"


def _table(view: NodeView) -> list[str]:
    by_id = {node.id: node for node in view.nodes}
    ordered: list[ClusterNode] = []
    masters = sorted(
        (n for n in view.nodes if not n.is_replica), key=lambda n: n.slots or ((SLOTS, 0),)
    )
    for master in masters:
        ordered.append(master)
        ordered += sorted(
            (n for n in view.nodes if n.is_replica and n.master_id == master.id),
            key=lambda n: n.endpoint,
        )
    ordered += [n for n in view.nodes if n not in ordered]
    rows = [("NODE", "ID", "ROLE", "SLOTS", "REPLICA OF", "LINK", "FLAGS")]
    for node in ordered:
        followed = by_id.get(node.master_id or "")
        rows.append(
            (
                node.endpoint,
                node.id[:8],
                "replica" if node.is_replica else "master" if node.is_master else "?",
                f"{node.slot_count} ({format_ranges(node.slot_set())})" if node.slots else "-",
                followed.endpoint if followed else (node.master_id or "-")[:8],
                "connected" if node.connected else "disconnected",
                ",".join(sorted(node.flags - {"master", "slave"})) or "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


async def check_cluster(
    addresses: list[NodeAddress],
    *,
    replicas: int = 1,
    password: str | None = None,
    reply_timeout: float = 2.0,
) -> Report:
    """Ask every given node (each within `reply_timeout` seconds) and judge the cluster."""
    views, failures = await gather_views(addresses, password=password, reply_timeout=reply_timeout)
    return assess(views, failures, replicas=replicas)
