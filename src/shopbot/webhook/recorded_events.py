"""Events this process has seen recorded, so a redelivery is answered without the database.

Heleket delivers a webhook again when it got no 200 in time, and a duplicate of an event
that is recorded already changes nothing (the `(provider, uuid, status)` UNIQUE claim in
`payment_events` settles it). Answering one still cost a database transaction: a
checkout, BEGIN, the claim, COMMIT. This process remembers the events it has seen
committed (applied, or found recorded), and answers their redeliveries 200 "duplicate"
without the database:

- a body byte for byte the same as one it verified (Heleket resends the same body) is
  known by its SHA-256 digest, before any parsing: the signature is a function of the
  bytes and the key, so it would verify again, to the same event;
- any other body naming a remembered `(uuid, status)` after its signature check.

Only committed events are remembered, so the database stays the one judge: an event not
remembered here (another instance recorded it, the process restarted, it fell out of the
bounded memory) goes to the database as before. The memory holds `capacity` events, the
least recently seen dropped first (~400 bytes each with Heleket's UUIDs and statuses and
a body digest: 20,000 events are ~8 MiB).
"""

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from typing import TypeVar

CAPACITY = 20_000

K = TypeVar("K", bound=Hashable)


def body_digest(raw: bytes) -> bytes:
    """SHA-256 of the raw request body (32 bytes)."""
    return hashlib.sha256(raw).digest()


class RecordedEvents:
    """A bounded set of `(uuid, status)` keys, and of the digests of the bodies that
    delivered them; least recently seen leaves first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._bodies: OrderedDict[bytes, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, uuid: str, status: str) -> bool:
        """True when the event `(uuid, status)` is remembered as committed."""
        return _touch(self._keys, (uuid, status))

    def seen_body(self, raw: bytes) -> bool:
        """True when exactly these bytes delivered an event remembered as committed (its
        signature verified then, so it would now)."""
        return _touch(self._bodies, body_digest(raw))

    def remember(self, uuid: str, status: str, raw: bytes | None = None) -> None:
        """Call only after the transaction that recorded (or found) the event committed,
        with the verified body that delivered it, if it is to be known by its bytes."""
        _put(self._keys, (uuid, status), self.capacity)
        if raw is not None:
            _put(self._bodies, body_digest(raw), self.capacity)


def _touch(keys: OrderedDict[K, None], key: K) -> bool:
    if key not in keys:
        return False
    keys.move_to_end(key)
    return True


def _put(keys: OrderedDict[K, None], key: K, capacity: int) -> None:
    keys[key] = None
    keys.move_to_end(key)
    while len(keys) > capacity:
        keys.popitem(last=False)
