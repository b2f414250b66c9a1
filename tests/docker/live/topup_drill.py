"""The Heleket side of the primary's restart: the journey's customer (balance 0 after the
journey) asks for a product they cannot afford and opens a Heleket invoice before the
load starts; the invoice is paid while the primary is down, so Heleket's signed webhook
(emulator → nginx → the webhook service) is answered 5xx and retried by the emulator
until the primary is back. Then the top-up must be credited by exactly one posting and
the purchase complete by itself, delivered once."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from shopbot.demo.transcript import plain
from tests.docker.live.journey import CUSTOMER_ID, EN, Customer, JourneyFailed
from tests.docker.live.load import PRODUCT
from tests.docker.live.stack import LiveStack

WAIT = 120.0  # seconds for the order to arrive once the primary is back


def open_invoice(stack: LiveStack) -> str:
    """Plays the customer up to a new Heleket invoice (none of its updates is part of
    the load's count); returns the invoice's uuid."""
    with (
        httpx.Client(base_url=stack.telegram_url, timeout=30) as telegram,
        httpx.Client(base_url=stack.heleket_url, timeout=30) as heleket,
    ):
        known = {i["invoice"]["uuid"] for i in heleket.get("/sandbox/invoices").json()}
        customer = Customer(telegram, heleket)
        customer.send("/start")
        customer.press(plain(EN("menu.catalog")))
        customer.press("Games")
        customer.press(PRODUCT)
        customer.press("Buy for")
        customer.wait_text("Not enough balance")
        customer.press("Top up")
        customer.press(plain(EN("topup.method_heleket")))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            new = [i for i in heleket.get("/sandbox/invoices").json()
                   if i["invoice"]["uuid"] not in known]  # fmt: skip
            if new:
                return str(new[0]["invoice"]["uuid"])
            time.sleep(0.5)
    raise JourneyFailed("no new Heleket invoice after choosing Heleket")


def pay(stack: LiveStack, uuid: str) -> None:
    with httpx.Client(base_url=stack.heleket_url, timeout=30) as heleket:
        heleket.post(f"/sandbox/invoices/{uuid}/pay", json={}).raise_for_status()


def credited_once(stack: LiveStack, uuid: str, sql: Any) -> dict[str, Any]:
    """Waits for the order the top-up completes; checks one credit posting, the invoice
    credited, one order delivered once; returns the webhook's attempt figures."""
    with (
        httpx.Client(base_url=stack.telegram_url, timeout=60) as telegram,
        httpx.Client(base_url=stack.heleket_url, timeout=60) as heleket,
    ):
        deadline = time.monotonic() + WAIT
        orders: list[list[str]] = []
        while time.monotonic() < deadline and not orders:
            orders = sql(stack, f"select id from orders where user_id = {CUSTOMER_ID} "
                                "and sku = 'guide'")  # fmt: skip
            time.sleep(1)
        assert len(orders) == 1, orders
        order = int(orders[0][0])
        shown = 0
        while time.monotonic() < deadline and not shown:
            messages = telegram.get(f"/sandbox/chats/{CUSTOMER_ID}/messages").json()
            texts = [plain(m.get("text") or "") for m in messages if m["sender"] == "bot"]
            shown = sum(1 for t in texts if re.search(rf"Order #{order}:", t))
            time.sleep(1)
        assert shown == 1, f"order {order} shown {shown} times"
        attempts = heleket.get("/sandbox/deliveries", params={"uuid": uuid}).json()
    postings = sql(stack, "select count(*) from ledger_transactions "
                          f"where idempotency_key = 'heleket:{uuid}:credit'")  # fmt: skip
    assert postings == [["1"]], postings
    state = sql(stack, f"select state from topup_invoices where uuid = '{uuid}'")
    assert state == [["credited"]], state
    failed = [a for a in attempts if not a.get("ok")]
    assert failed, f"the webhook was never answered 5xx during the outage: {attempts}"
    assert attempts[-1].get("ok"), attempts
    return {
        "webhook attempts": len(attempts),
        "answered non-2xx": [a.get("status_code") or a.get("error") for a in failed],
    }
