"""Cluster nodes: their addresses, a connection to one, and what one node says about the
cluster (`CLUSTER INFO`, `CLUSTER NODES`, `DBSIZE`).

The `CLUSTER NODES` line format is Redis's documented one
(https://redis.io/docs/latest/commands/cluster-nodes/):
`<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch>
<link-state> <slot> <slot> ...`. redis-py's own parser keys nodes by `ip:port`, which
drops a node when a failed and a new node share an address; this one keeps every line.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

SLOTS = 16384
"""Hash slots in a Redis Cluster (the cluster specification, "Key distribution model")."""
BUS_PORT_OFFSET = 10000
"""A node's cluster bus listens on its port + 10000 unless `cluster-port` says otherwise."""


@dataclass(frozen=True, order=True)
class NodeAddress:
    """HOST:PORT as given on the command line; HOST may be a name (Docker DNS), an IPv4
    or an IPv6 address (`[::1]:7379` or `::1:7379`)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> "NodeAddress":
        """Raises ValueError naming `text` when it is not HOST:PORT with a port 1-65535."""
        host, _, port = text.strip().rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"{text!r} is not HOST:PORT (e.g. redis-node-1:7379)")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ClusterNode:
    """One line of `CLUSTER NODES`: a node as the asking node sees it."""

    id: str
    ip: str  # empty while the node has not learned its own address (no MEET yet)
    port: int
    bus_port: int
    hostname: str
    flags: frozenset[str]
    master_id: str | None
    config_epoch: int
    connected: bool  # the link of the asking node to this one
    slots: tuple[tuple[int, int], ...]  # inclusive ranges
    open_slots: int  # slots being migrated or imported ("[slot->-id]", "[slot-<-id]")

    @property
    def endpoint(self) -> str:
        name = self.hostname or self.ip or "?"
        return f"{name}:{self.port}"

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def is_replica(self) -> bool:
        return "slave" in self.flags

    @property
    def failed(self) -> bool:
        """FAIL: the majority of masters agreed it is down."""
        return "fail" in self.flags

    @property
    def suspected(self) -> bool:
        """PFAIL: the asking node cannot reach it, not yet agreed by the others."""
        return "fail?" in self.flags

    @property
    def pending(self) -> bool:
        """Not a member yet (first handshake) or with no known address."""
        return bool({"handshake", "noaddr"} & self.flags)

    @property
    def slot_count(self) -> int:
        return sum(end - start + 1 for start, end in self.slots)

    def slot_set(self) -> set[int]:
        return {slot for start, end in self.slots for slot in range(start, end + 1)}


def parse_cluster_nodes(text: str) -> tuple[ClusterNode, ...]:
    """Every line of a `CLUSTER NODES` reply. Raises ValueError on a line that does not
    follow the documented format."""
    return tuple(_parse_line(line) for line in text.splitlines() if line.strip())


def _parse_line(line: str) -> ClusterNode:
    fields = line.split()
    if len(fields) < 8:
        raise ValueError(f"not a CLUSTER NODES line: {line!r}")
    node_id, address, flags, master, _ping, _pong, epoch, link = fields[:8]
    endpoint, _, extra = address.partition(",")
    hostport, _, bus = endpoint.partition("@")
    ip, _, port = hostport.rpartition(":")
    hostname = extra.split(",")[0] if extra and "=" not in extra.split(",")[0] else ""
    slots: list[tuple[int, int]] = []
    open_slots = 0
    for item in fields[8:]:
        if item.startswith("["):
            open_slots += 1
            continue
        start, _, end = item.partition("-")
        slots.append((int(start), int(end or start)))
    return ClusterNode(
        id=node_id,
        ip=ip,
        port=int(port),
        bus_port=int(bus or 0),
        hostname=hostname,
        flags=frozenset(flags.split(",")),
        master_id=None if master == "-" else master,
        config_epoch=int(epoch),
        connected=link == "connected",
        slots=tuple(slots),
        open_slots=open_slots,
    )


@dataclass(frozen=True)
class NodeView:
    """What the node at `address` says: its `CLUSTER INFO` fields, its `CLUSTER NODES`
    lines, how many keys it holds (`DBSIZE`) and its `INFO replication` fields."""

    address: NodeAddress
    info: dict[str, str]
    nodes: tuple[ClusterNode, ...]
    keys: int
    replication: dict[str, str]

    @property
    def myself(self) -> ClusterNode:
        return next(node for node in self.nodes if "myself" in node.flags)

    @property
    def members(self) -> tuple[ClusterNode, ...]:
        """The nodes it knows, without those still in their first handshake."""
        return tuple(node for node in self.nodes if not node.pending)

    @property
    def fresh(self) -> bool:
        """Knows no other node and serves no slot: never joined to a cluster (or reset)."""
        return len(self.members) == 1 and not self.myself.slots

    @property
    def synced(self) -> bool:
        """A master, or a replica whose link to its master is up (it has had its first
        full sync: a replica that never synced can never be promoted)."""
        return not self.myself.is_replica or self.replication.get("master_link_status") == "up"

    @property
    def state_ok(self) -> bool:
        return self.info.get("cluster_state") == "ok"

    def info_int(self, field: str) -> int:
        return int(self.info.get(field, "0"))


def _identity(response: Any, **_: Any) -> Any:
    return response


@asynccontextmanager
async def connect(
    address: NodeAddress, *, password: str | None = None, reply_timeout: float = 2.0
) -> AsyncIterator[Redis]:
    """A plain (non-cluster) client of one node, replies decoded; `reply_timeout` in
    seconds for connecting and for each reply. Closed when the block exits."""
    client = Redis(
        host=address.host,
        port=address.port,
        password=password,
        socket_timeout=reply_timeout,
        socket_connect_timeout=reply_timeout,
        decode_responses=True,
    )
    # The raw text: redis-py's parsed form loses lines (see the module docstring).
    client.set_response_callback("CLUSTER NODES", _identity)
    try:
        yield client
    finally:
        await client.aclose()


async def read_view(client: Redis, address: NodeAddress) -> NodeView:
    """Raises redis.ResponseError when the node runs without `cluster-enabled yes`
    ("This instance has cluster support disabled"), redis.ConnectionError or
    redis.TimeoutError when it does not answer."""
    info = await command(client, "CLUSTER INFO")
    text = await command(client, "CLUSTER NODES")
    keys = await client.dbsize()
    replication = await client.info("replication")
    return NodeView(
        address=address,
        info={str(name): str(value) for name, value in info.items()},
        nodes=parse_cluster_nodes(text),
        keys=int(keys),
        replication={str(name): str(value) for name, value in replication.items()},
    )


async def command(client: Redis, *args: object) -> Any:
    """One command through redis-py (whose `execute_command` is untyped)."""
    return await client.execute_command(*args)  # type: ignore[no-untyped-call]


async def read_view_of(
    address: NodeAddress, *, password: str | None = None, reply_timeout: float = 2.0
) -> NodeView:
    async with connect(address, password=password, reply_timeout=reply_timeout) as client:
        return await read_view(client, address)


def to_ranges(slots: set[int] | list[int]) -> list[tuple[int, int]]:
    """Slots as sorted inclusive ranges: {0, 1, 2, 7} -> [(0, 2), (7, 7)]."""
    ranges: list[tuple[int, int]] = []
    for slot in sorted(slots):
        if ranges and slot == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], slot)
        else:
            ranges.append((slot, slot))
    return ranges


def format_ranges(slots: set[int] | list[int]) -> str:
    """`0-5460,5462` for a set of slots; `-` when empty."""
    parts = [f"{start}-{end}" if end != start else str(start) for start, end in to_ranges(slots)]
    return ",".join(parts) or "-"
