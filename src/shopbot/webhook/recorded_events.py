"""Events this process has seen recorded, so a redelivery is answered without the database.

Heleket delivers a webhook again when it got no 200 in time, and a duplicate of an event
that is recorded already changes nothing (the `(provider, uuid, status)` UNIQUE claim in
`payment_events` settles it). Answering one still cost a database transaction: a
checkout, BEGIN, the claim, COMMIT. This process remembers the events it has seen
committed (applied, or found recorded), and answers their redeliveries 200 "duplicate"
after the signature check only.

Only committed events are remembered, so the database stays the one judge: an event not
remembered here (another instance recorded it, the process restarted, it fell out of the
bounded memory) goes to the database as before. The memory holds `capacity` keys, the
least recently seen dropped first (~270 bytes each with Heleket's UUIDs and statuses:
20,000 keys are ~5 MiB).
"""

from collections import OrderedDict

CAPACITY = 20_000


class RecordedEvents:
    """A bounded set of `(uuid, status)` keys; least recently seen leaves first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, uuid: str, status: str) -> bool:
        """True when the event `(uuid, status)` is remembered as committed."""
        key = (uuid, status)
        if key not in self._keys:
            return False
        self._keys.move_to_end(key)
        return True

    def remember(self, uuid: str, status: str) -> None:
        """Call only after the transaction that recorded (or found) the event committed."""
        self._keys[(uuid, status)] = None
        self._keys.move_to_end((uuid, status))
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
