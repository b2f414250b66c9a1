"""The issue's failure drills at full scale on the production stack, in one run:

100 customers send 2,000 updates (load.py) while a broadcast goes to 5,000 users against
the emulator's 30 messages/s per bot, and the faults come in turn while both run: a Redis
master with a live replica killed, the bot instance holding the broadcast worker's lease
killed with SIGKILL (the broadcast's `kill -9` and the bot-instance drill at once), a
PostgreSQL replica stopped (no update may fail for it), and the primary stopped for 8 s
(what failed meanwhile is redelivered and applied once afterwards; a Heleket invoice is
paid during that outage: topup_drill.py). Then the checks of
drill_checks.py, and the figures for docs/deployment.md."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from tests.docker.live import drill_checks, faults, topup_drill
from tests.docker.live.load import (
    PRICE,
    PURCHASES_PER_CUSTOMER,
    UPDATES_PER_CUSTOMER,
    Progress,
    play_all,
)
from tests.docker.live.seeding import seed_customers_and_broadcast
from tests.docker.live.stack import LiveStack

CUSTOMERS = list(range(7001, 7101))
ADMIN = 600_000
FIRST_AUDIENCE = 600_001
AUDIENCE = 5000
FLOOD_PER_BOT = 30  # Telegram's bulk limit, messages a second per bot
BATCH = 25  # BROADCAST_PER_SECOND's default: the worker's batch, and its rate
TEXT = "Drill broadcast: the shop is open through every fault."
BROADCAST_TIMEOUT = 600.0  # seconds: 5,000 at 25/s is 200 s, plus the faults
PRIMARY_DOWN = 8.0  # seconds the primary stays stopped


class Schedule(threading.Thread):
    """Runs each fault once the load has sent its number of updates; records when."""

    def __init__(
        self, progress: Progress, steps: list[tuple[int, str, Callable[[], None]]]
    ) -> None:
        super().__init__(daemon=True)
        self.progress, self.steps = progress, steps
        self.times: dict[str, float] = {}
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            for threshold, name, action in self.steps:
                while self.progress.sent < threshold and not self.finished.is_set():
                    time.sleep(0.2)
                if self.finished.is_set():
                    raise AssertionError(f"the load ended before the fault {name!r}")
                self.times[f"{name} at"] = time.time()
                action()
                self.times[f"{name} done"] = time.time()
        except BaseException as error:  # re-raised by the test's thread
            self.error = error


def full_scale_drills(stack: LiveStack) -> dict[str, Any]:
    """Runs the drills; returns the figures. Raises AssertionError on any gap."""
    with httpx.Client(base_url=stack.telegram_url, timeout=60) as telegram:
        return _drills(stack, telegram)


def _drills(stack: LiveStack, telegram: httpx.Client) -> dict[str, Any]:
    figures: dict[str, Any] = {"restored": faults.restore(stack)}
    assert faults.cluster_ok(stack), "the Redis cluster is not ok before the drills"
    for user_id in [*CUSTOMERS, ADMIN]:
        telegram.post("/sandbox/users", json={"id": user_id, "started": True}).raise_for_status()
    invoice = topup_drill.open_invoice(stack)  # before the broadcast keeps the bot busy
    first_update = 1 + max((int(d["update_id"]) for d in deliveries(telegram)), default=0)

    started = time.monotonic()
    seeded = seed_customers_and_broadcast(
        stack, customers=CUSTOMERS, balance=Decimal(PRICE * PURCHASES_PER_CUSTOMER),
        admin=ADMIN, audience=AUDIENCE, first_extra=FIRST_AUDIENCE, text=TEXT,
    )  # fmt: skip
    telegram.post("/sandbox/users/bulk", json={
        "first_id": FIRST_AUDIENCE, "count": seeded.extra, "started": True,
    }).raise_for_status()  # fmt: skip
    assert seeded.total == AUDIENCE
    figures["seeding s"] = round(time.monotonic() - started, 1)
    telegram.post("/sandbox/flood", json={"global": FLOOD_PER_BOT}).raise_for_status()

    progress = Progress()
    killed: dict[str, str] = {}

    def kill_master() -> None:
        killed["redis"] = faults.master_with_live_replica(stack)
        stack.compose("kill", killed["redis"])

    def kill_worker() -> None:
        killed["app"] = faults.broadcast_lease_holder(stack)
        faults.kill9(killed["app"])

    def stop_replica() -> None:
        stack.compose("stop", "db-replica-1")

    def start_replica() -> None:
        stack.compose("start", "db-replica-1")

    def restart_primary() -> None:
        stack.compose("stop", "db")
        topup_drill.pay(stack, invoice)  # Heleket's webhook meets the outage
        time.sleep(PRIMARY_DOWN)
        stack.compose("start", "db")

    schedule = Schedule(progress, [
        (150, "redis master killed", kill_master),
        (400, "broadcast worker's bot instance killed", kill_worker),
        (700, "replica stopped", stop_replica),
        (1000, "replica started", start_replica),
        (1200, "primary restarted", restart_primary),
    ])  # fmt: skip
    schedule.start()
    load_started = time.monotonic()
    try:
        played = play_all(stack.telegram_url, CUSTOMERS, progress)
    finally:
        schedule.finished.set()
        schedule.join()
    figures["load s"] = round(time.monotonic() - load_started, 1)
    if schedule.error is not None:
        raise schedule.error
    figures["faults"] = {k: round(v - schedule.times[next(iter(schedule.times))], 1)
                         for k, v in schedule.times.items()}  # fmt: skip
    figures["killed"] = killed

    status = wait_broadcast(stack, seeded.broadcast_id)
    figures["broadcast"] = status
    telegram.post("/sandbox/flood", json={"global": None}).raise_for_status()

    attempts = deliveries(telegram)
    calls = telegram.get("/sandbox/calls", timeout=120).json()
    figures["updates"] = drill_checks.updates_answered_once(
        attempts, first_update, len(CUSTOMERS) * UPDATES_PER_CUSTOMER
    )
    drill_checks.replies_once(calls, played)
    orders = {
        int(order): int(user)
        for order, user in faults.sql(
            stack, f"select id, user_id from orders where user_id between {CUSTOMERS[0]} "
            f"and {CUSTOMERS[-1]}",
        )
    }  # fmt: skip
    assert len(orders) == len(CUSTOMERS) * PURCHASES_PER_CUSTOMER, len(orders)
    drill_checks.deliveries_once(calls, played, orders)
    during_replica = drill_checks.failures_explained(
        attempts,
        calls,
        schedule.times["replica stopped done"],
        schedule.times["replica started at"],
    )
    assert during_replica == [], f"updates failed while a replica was stopped: {during_replica}"
    states = {
        int(user): state
        for user, state in faults.sql(
            stack, f"select user_id, state from broadcast_recipients "
            f"where broadcast_id = {seeded.broadcast_id}",
        )
    }  # fmt: skip
    figures["broadcast"] |= drill_checks.broadcast_once(calls, TEXT, states, BATCH, 2)
    figures["429 answers in all"] = sum(1 for c in calls if c.get("error_code") == 429)
    figures["heleket top-up"] = topup_drill.credited_once(stack, invoice, faults.sql)
    verify = stack.shopbot("ledger", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return figures


def deliveries(telegram: httpx.Client) -> list[dict[str, Any]]:
    response = telegram.get("/sandbox/deliveries", timeout=120)
    response.raise_for_status()
    return list(response.json())


def wait_broadcast(stack: LiveStack, broadcast_id: int) -> dict[str, Any]:
    """Waits until the broadcast is done; its status and sending time (started → finished)."""
    query = (
        "select status, total, extract(epoch from finished_at - started_at) "
        f"from broadcasts where id = {broadcast_id}"
    )
    deadline = time.monotonic() + BROADCAST_TIMEOUT
    row = faults.sql(stack, query)[0]
    while row[0] == "running" and time.monotonic() < deadline:
        time.sleep(2)
        row = faults.sql(stack, query)[0]
    assert row[0] == "done", row
    seconds = float(row[2])
    return {"total": int(row[1]), "sending s": round(seconds, 1),
            "rate per s": round(int(row[1]) / seconds, 1)}  # fmt: skip
