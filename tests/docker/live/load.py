"""The drills' load: simulated customers driving the deployed bot through the Telegram
emulator's control API, so every update goes emulator → nginx (TLS) → one of the bot
instances, with Telegram's redelivery when an answer is not 2xx.

Each customer plays SCRIPT (20 updates: /start and /help messages, three purchases of the
unlimited product through Catalog → Games → product → Buy → Confirm) and waits for the
bot's answer to each update before the next, as a person does. `CONCURRENCY` customers
play at once. What each customer sent and pressed is recorded for the exactly-once
checks (drill_checks.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from shopbot.demo.transcript import plain
from tests.docker.live.journey import EN, JourneyFailed

CONCURRENCY = 40
"""Customers playing at once; the rest wait their turn. 40 paced customers offer about
13 updates a second, under the shop's global limit (RATE_LIMIT_GLOBAL_PER_SECOND 25)."""
PRESS_GAP = 3.2
MESSAGE_GAP = 2.2
"""Seconds between one customer's presses and between their messages: the shop's
per-user limits (RATE_LIMIT_OPERATIONS_PER_MINUTE 20, RATE_LIMIT_MESSAGES_PER_MINUTE 30,
config.py) answer a faster customer with a notice instead of the screen, as they should;
the drills play customers who stay within them."""
STEP_TIMEOUT = 120.0
"""Seconds one update may take to be answered: a fault's outage (the primary's restart,
a Redis promotion) plus Telegram's redelivery backoff, on a loaded 2-core machine."""
PRODUCT = "Strategy guide"
"""The unlimited product of tests/integration/cli/harness.py's catalog, priced 5."""
PRICE = 5
WELCOME = "Welcome to the shop"
HELP = plain(EN("help.text")).splitlines()[0]
PURCHASE = [
    (plain(EN("menu.catalog")), "Games"),
    ("Games", PRODUCT),
    (PRODUCT, "Buy for"),
    ("Buy for", plain(EN("buy.confirm_button"))),
    (plain(EN("buy.confirm_button")), "Order #"),
]
"""Press the button labelled like the first, then the pressed screen shows the second
(a button, or for the last step the delivery's text)."""
SCRIPT: list[str | list[tuple[str, str]]] = [
    "/start", PURCHASE, "/help", "/start", PURCHASE, "/start", PURCHASE, "/help",
]  # fmt: skip
UPDATES_PER_CUSTOMER = sum(len(s) if isinstance(s, list) else 1 for s in SCRIPT)
PURCHASES_PER_CUSTOMER = sum(1 for s in SCRIPT if isinstance(s, list))


@dataclass
class Played:
    """What one customer did: texts sent, callback queries pressed, orders delivered."""

    user_id: int
    commands: dict[str, int] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)


class Progress:
    """Updates sent so far by every customer (the fault schedule reads it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0

    def add(self) -> None:
        with self._lock:
            self.sent += 1


class Customer:
    def __init__(self, http: httpx.Client, user_id: int, progress: Progress) -> None:
        self.http, self.user_id, self.progress = http, user_id, progress
        self.played = Played(user_id)
        self._last = {"press": float("-inf"), "message": float("-inf")}

    def _pace(self, kind: str, gap: float) -> None:
        wait = self._last[kind] + gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last[kind] = time.monotonic()

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise JourneyFailed(
                f"{response.request.url.path} answered {response.status_code}: {response.text}"
            )
        return response.json()

    def bot_messages(self) -> list[dict[str, Any]]:
        found = self._ok(self.http.get(f"/sandbox/chats/{self.user_id}/messages"))
        return [m for m in found if m.get("sender") == "bot"]

    def _wait(self, what: str, find: Any) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            found = find(self.bot_messages())
            if found is not None:
                return found
            time.sleep(0.5)
        raise JourneyFailed(
            f"customer {self.user_id}: no {what} within {STEP_TIMEOUT} s; {self.diagnosis()}"
        )

    def diagnosis(self) -> str:
        """The user's last webhook attempts and the bot's last calls to their chat."""
        attempts = [
            {k: a.get(k) for k in ("update_id", "type", "attempt", "status", "error", "gave_up")}
            for a in self._ok(self.http.get("/sandbox/deliveries"))
            if a.get("from_id") == self.user_id
        ]
        calls = [
            {k: c.get(k) for k in ("method", "ok", "error_code", "description", "at")}
            for c in self._ok(self.http.get("/sandbox/calls"))
            if str((c.get("params") or {}).get("chat_id")) == str(self.user_id)
        ]
        texts = [m.get("text") for m in self.bot_messages()]
        return f"attempts {attempts[-8:]}; calls {calls[-8:]}; bot messages {texts[-4:]}"

    def command(self, text: str) -> int:
        """Sends `text`; returns the id of the bot's new answer with the main menu."""
        before = {m["message_id"] for m in self.bot_messages()}
        expected = WELCOME if text == "/start" else HELP
        self._pace("message", MESSAGE_GAP)
        self._ok(self.http.post(f"/sandbox/users/{self.user_id}/send", json={"text": text}))
        self.progress.add()
        self.played.commands[text] = self.played.commands.get(text, 0) + 1

        def answer(messages: list[dict[str, Any]]) -> int | None:
            for message in messages:
                if message["message_id"] not in before and expected in (message["text"] or ""):
                    return int(message["message_id"])
            return None

        return int(self._wait(f"answer to {text}", answer))

    def press(self, message_id: int, label: str, shows: str) -> None:
        def screen(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
            return next((m for m in messages if m["message_id"] == message_id), None)

        current = self._wait(f"message {message_id}", screen)
        data = button(current, label)
        self._pace("press", PRESS_GAP)
        pressed = self._ok(self.http.post(f"/sandbox/users/{self.user_id}/press", json={
            "message_id": message_id, "callback_data": data}))  # fmt: skip
        self.progress.add()
        self.played.queries.append(str(pressed["callback_query_id"]))

        def shown(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
            message = screen(messages)
            if message is None:
                return None
            if shows in (message["text"] or "") or has_button(message, shows):
                return message
            return None

        final = self._wait(f"{shows!r} after pressing {label!r}", shown)
        if shows == "Order #":
            order = (final["text"] or "").split("Order #", 1)[1].split(":", 1)[0]
            self.played.orders.append(int(order))

    def play(self) -> Played:
        menu = 0
        for step in SCRIPT:
            if isinstance(step, str):
                menu = self.command(step)
                continue
            for label, shows in step:
                self.press(menu, label, shows)
        return self.played


def button(message: dict[str, Any], label: str) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    for found in (b for row in rows for b in row):
        if label in found.get("text", "") and "callback_data" in found:
            return str(found["callback_data"])
    raise JourneyFailed(f"no button {label!r} on {message.get('text')!r}")


def has_button(message: dict[str, Any], label: str) -> bool:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(label in b.get("text", "") for row in rows for b in row)


def play_all(telegram_url: str, customers: list[int], progress: Progress) -> list[Played]:
    """Every customer plays SCRIPT, CONCURRENCY at a time; raises the first JourneyFailed."""

    def one(user_id: int) -> Played:
        with httpx.Client(base_url=telegram_url, timeout=30) as http:
            return Customer(http, user_id, progress).play()

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(one, customers))
