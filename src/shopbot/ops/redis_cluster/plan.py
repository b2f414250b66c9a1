"""What `shopbot redis cluster create` would change, decided from what the nodes say
before anything is changed; refusals happen here, so a refused run touches no node.

Rules (the creator never resets or flushes a node, see docs/cli.md):
- every node runs with `cluster-enabled yes`; no two addresses are the same node;
- a node outside any cluster ("fresh": knows only itself, no slots) must hold no keys;
- a node in a cluster may only know the given nodes (a foreign node means another
  cluster), and all such nodes must be in the same cluster;
- the first len(NODES) / (replicas + 1) nodes are the masters; slot ranges are split as
  `redis-cli --cluster create` splits them; every other node (and any master left
  without slots) replicates the master with the fewest replicas, preferring its
  counterpart in the given order, so each replica of a 3+3 cluster has its own master.
"""

from dataclasses import dataclass, field

from shopbot.ops.redis_cluster.nodes import (
    SLOTS,
    NodeAddress,
    NodeView,
    format_ranges,
    to_ranges,
)

MIN_MASTERS = 3
"""A cluster needs a majority of masters to agree on a failure; redis-cli also refuses
fewer than three (`--cluster create`, "at least 3 master nodes")."""


class CreateProblem(Exception):
    """The creator stopped; `str()` is the line to show, `exit_code` the process's."""

    exit_code = 1


class Refused(CreateProblem):
    """The nodes are not ours to change (data, another cluster, no cluster support) or the
    request is invalid: exit 2, nothing was changed."""

    exit_code = 2


@dataclass
class Plan:
    masters: list[NodeAddress]
    epochs: list[tuple[NodeAddress, int]] = field(default_factory=list)
    gateway: NodeAddress | None = None  # the member that introduces the others
    meets: list[NodeAddress] = field(default_factory=list)
    slots: list[tuple[NodeAddress, list[tuple[int, int]]]] = field(default_factory=list)
    replicate: list[tuple[NodeAddress, NodeAddress]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.epochs or self.meets or self.slots or self.replicate)

    def describe(self) -> list[str]:
        lines = [f"  set config epoch {epoch} on {node}" for node, epoch in self.epochs]
        lines += [f"  {self.gateway} meets {node}" for node in self.meets]
        for node, ranges in self.slots:
            count = sum(end - start + 1 for start, end in ranges)
            shown = ",".join(f"{start}-{end}" for start, end in ranges)
            lines.append(f"  {node} serves {count} slots ({shown})")
        lines += [f"  {replica} replicates {master}" for replica, master in self.replicate]
        return lines


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """16384 slots split into `masters` inclusive ranges, as redis-cli splits them
    (3 masters: 0-5460, 5461-10922, 10923-16383)."""
    bounds = [round(index * SLOTS / masters) for index in range(masters + 1)]
    return [(bounds[index], bounds[index + 1] - 1) for index in range(masters)]


def master_count(nodes: int, replicas: int) -> int:
    """Raises Refused unless `nodes` make at least MIN_MASTERS masters with `replicas`
    replicas each."""
    if replicas < 0:
        raise Refused("--replicas must be 0 or more")
    masters = nodes // (replicas + 1)
    if masters < MIN_MASTERS:
        need = MIN_MASTERS * (replicas + 1)
        raise Refused(
            f"{nodes} nodes with --replicas {replicas} make {masters} masters; "
            f"a cluster needs at least {MIN_MASTERS} (give {need} nodes)"
        )
    return masters


def refuse_foreign_state(views: list[NodeView]) -> None:
    """Raises Refused naming the first node that must not be touched."""
    ids: dict[str, NodeAddress] = {}
    for view in views:
        same = ids.get(view.myself.id)
        if same is not None:
            raise Refused(f"{same} and {view.address} are the same node ({view.myself.id[:8]})")
        ids[view.myself.id] = view.address
    for view in views:
        if view.fresh and view.keys:
            raise Refused(
                f"{view.address} holds {view.keys} keys and is in no cluster: refusing to "
                "make it a cluster node (the creator never flushes or resets a node); "
                "left untouched"
            )
        for node in view.members:
            if node.id not in ids:
                raise Refused(
                    f"{view.address} is already in another cluster: it knows node "
                    f"{node.id[:8]} at {node.endpoint}, which is not among the given nodes; "
                    "left untouched (CLUSTER FORGET that node on every node if it is gone "
                    "for good)"
                )
    joined = [view for view in views if not view.fresh]
    for view in joined:
        known = {node.id for node in view.members}
        for other in joined:
            if other.myself.id not in known:
                raise Refused(
                    f"{view.address} and {other.address} are in different clusters; left untouched"
                )


def make_plan(views: list[NodeView], replicas: int) -> Plan:
    """The steps that bring `views` (one per given node, in the given order) to a cluster
    of all of them with every slot served. Raises Refused (nothing changed)."""
    masters = master_count(len(views), replicas)
    refuse_foreign_state(views)
    addresses = [view.address for view in views]
    plan = Plan(masters=addresses[:masters])
    joined = [view for view in views if not view.fresh]
    if not joined:
        plan.gateway = addresses[0]
        plan.meets = addresses[1:]
        # Distinct epochs up front, as redis-cli does, so no two masters start with the
        # same one and the nodes need not resolve the collision.
        plan.epochs = [
            (view.address, index + 1)
            for index, view in enumerate(views)
            if view.myself.config_epoch == 0
        ]
        reference: NodeView | None = None
    else:
        reference = joined[0]
        plan.gateway = reference.address
        plan.meets = [view.address for view in views if view.fresh]
    by_id = {view.myself.id: view for view in views}
    owners = _slot_owners(reference, by_id)
    _plan_slots(plan, views, owners)
    _plan_replicas(plan, views, reference, by_id, owners)
    return plan


def _slot_owners(reference: NodeView | None, by_id: dict[str, NodeView]) -> dict[str, set[int]]:
    """Node id -> the slots it serves, as the cluster sees it now."""
    if reference is None:
        return {}
    return {node.id: node.slot_set() for node in reference.members if node.slots}


def _plan_slots(plan: Plan, views: list[NodeView], owners: dict[str, set[int]]) -> None:
    owned = set().union(*owners.values()) if owners else set()
    by_address = {view.address: view for view in views}
    for master, (start, end) in zip(plan.masters, slot_ranges(len(plan.masters)), strict=True):
        missing = set(range(start, end + 1)) - owned
        if not missing:
            continue
        view = by_address[master]
        if view.myself.is_replica:
            raise Refused(
                f"slots {format_ranges(missing)} are unassigned and {master}, which should "
                "serve them, is a replica: assign them by hand (CLUSTER ADDSLOTSRANGE)"
            )
        plan.slots.append((master, to_ranges(missing)))


def _plan_replicas(
    plan: Plan,
    views: list[NodeView],
    reference: NodeView | None,
    by_id: dict[str, NodeView],
    owners: dict[str, set[int]],
) -> None:
    serving = {by_id[node_id].address for node_id in owners if node_id in by_id}
    serving |= {address for address, _ in plan.slots}
    ordered_masters = [view.address for view in views if view.address in serving]
    counts = {address: 0 for address in ordered_masters}
    if reference is not None:
        for node in reference.members:
            master = by_id.get(node.master_id or "")
            if node.is_replica and not node.failed and master and master.address in counts:
                counts[master.address] += 1
    spares = [view for view in views if not view.myself.is_replica and view.address not in serving]
    for view in spares:
        if view.keys:
            raise Refused(
                f"{view.address} would become a replica but holds {view.keys} keys "
                "(a replica must start empty); left untouched"
            )
        if not counts:
            raise Refused("no master serves slots for the replicas to follow")
        position = views.index(view)
        counterpart = plan.masters[(position - len(plan.masters)) % len(plan.masters)]
        fewest = min(counts.values())
        candidates = [address for address in ordered_masters if counts[address] == fewest]
        chosen = counterpart if counterpart in candidates else candidates[0]
        counts[chosen] += 1
        plan.replicate.append((view.address, chosen))
