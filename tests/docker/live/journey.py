"""The customer journey of the demo, played over the emulators' control APIs against a
deployed stack: every update goes Telegram emulator → nginx (TLS) → one of the bot
instances, and Heleket's signed webhook goes Heleket emulator → nginx → the webhook service.

catalog → the stock product → not enough balance → a Heleket top-up → the webhook → the
purchase completes by itself → the key is in the chat."""

from __future__ import annotations

import time
from typing import Any

import httpx

from shopbot.bot.texts import Texts
from shopbot.demo.transcript import plain

CUSTOMER_ID = 5001
EN = Texts("en")
STEP_TIMEOUT = 60.0  # seconds; an update crosses nginx and a bot on a loaded machine


class JourneyFailed(AssertionError):
    """A step of the journey did not happen; the message says which and what was seen."""


class Customer:
    """One simulated Telegram user driving the bot through the emulator's control API."""

    def __init__(self, telegram: httpx.Client, heleket: httpx.Client) -> None:
        self.telegram, self.heleket = telegram, heleket
        self._ok(telegram.post("/sandbox/users", json={
            "id": CUSTOMER_ID, "first_name": "Live", "language_code": "en"}))  # fmt: skip

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise JourneyFailed(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def bot_messages(self) -> list[dict[str, Any]]:
        found = self._ok(self.telegram.get(f"/sandbox/chats/{CUSTOMER_ID}/messages"))
        return [m for m in found if m.get("sender") == "bot"]

    def texts(self) -> list[str]:
        return [plain(m.get("text") or m.get("caption") or "") for m in self.bot_messages()]

    def wait_text(self, *fragments: str) -> str:
        """The newest bot message containing one of `fragments`, waiting up to STEP_TIMEOUT."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            for text in reversed(self.texts()):
                if any(fragment in text for fragment in fragments):
                    return text
            time.sleep(0.25)
        raise JourneyFailed(f"the bot never said any of {fragments!r}; it said {self.texts()!r}")

    def wait_button(self, label: str) -> tuple[int, str]:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            for message in reversed(self.bot_messages()):
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in (b for row in rows for b in row):
                    if label in button.get("text", "") and "callback_data" in button:
                        return int(message["message_id"]), str(button["callback_data"])
            time.sleep(0.25)
        raise JourneyFailed(f"no button {label!r}; the bot said {self.texts()!r}")

    def send(self, text: str) -> None:
        self._ok(self.telegram.post(f"/sandbox/users/{CUSTOMER_ID}/send", json={"text": text}))

    def press(self, label: str) -> None:
        message_id, data = self.wait_button(label)
        before = len(self.bot_messages())
        self._ok(self.telegram.post(f"/sandbox/users/{CUSTOMER_ID}/press", json={
            "message_id": message_id, "callback_data": data}))  # fmt: skip
        self._settle(before)

    def _settle(self, before: int) -> None:
        """Waits until the bot has answered (a new or edited message, or a quiet emulator)."""
        self.telegram.get("/sandbox/idle", params={"timeout": STEP_TIMEOUT, "quiet": 0.5},
                          timeout=STEP_TIMEOUT + 5)  # fmt: skip
        del before

    def pay_the_invoice(self) -> str:
        """Pays the one open Heleket invoice in full; returns its uuid once Heleket's
        webhook was delivered (answered 200 through nginx)."""
        deadline = time.monotonic() + STEP_TIMEOUT
        invoices: list[Any] = []
        while time.monotonic() < deadline and not invoices:
            invoices = self._ok(self.heleket.get("/sandbox/invoices"))
            time.sleep(0.25)
        if len(invoices) != 1:
            raise JourneyFailed(f"expected one Heleket invoice, found {invoices!r}")
        uuid = invoices[0]["invoice"]["uuid"]
        self._ok(self.heleket.post(f"/sandbox/invoices/{uuid}/pay", json={}))
        settled = self.heleket.get("/sandbox/settle", params={"timeout": STEP_TIMEOUT},
                                   timeout=STEP_TIMEOUT + 5)  # fmt: skip
        attempts = self._ok(self.heleket.get("/sandbox/deliveries", params={"uuid": uuid}))
        if settled.status_code != 200 or not any(a.get("ok") for a in attempts):
            raise JourneyFailed(f"Heleket's webhook was not accepted: {attempts!r}")
        return str(uuid)


def play(telegram_url: str, heleket_url: str, stock: list[str]) -> dict[str, Any]:
    """Plays the journey; returns what was seen (the delivered item, the deliveries).
    Raises JourneyFailed when a step does not happen."""
    with (
        httpx.Client(base_url=telegram_url, timeout=30) as telegram,
        httpx.Client(base_url=heleket_url, timeout=30) as heleket,
    ):
        customer = Customer(telegram, heleket)
        customer.send("/start")
        customer.press(plain(EN("menu.catalog")))
        customer.press("Games")
        customer.press("Game key")
        customer.press("Buy for")
        customer.wait_text("Not enough balance")
        customer.press("Top up")
        customer.press(plain(EN("topup.method_heleket")))
        uuid = customer.pay_the_invoice()
        customer.wait_text("topped up")
        delivered_text = customer.wait_text(*stock)
        delivered = next(item for item in stock if item in delivered_text)
        webhooks = telegram.get("/sandbox/deliveries").json()
        return {"delivered": delivered, "invoice": uuid, "telegram_deliveries": webhooks}


def browse(telegram_url: str, heleket_url: str) -> str:
    """The same customer again: /start, the catalog, the Games category (nothing bought,
    so it can be replayed during a fault). Returns the category page's product buttons,
    read from a message the bot sent for this /start, never an earlier one. Raises
    JourneyFailed."""
    with (
        httpx.Client(base_url=telegram_url, timeout=30) as telegram,
        httpx.Client(base_url=heleket_url, timeout=30) as heleket,
    ):
        customer = Customer(telegram, heleket)
        before = {int(m["message_id"]) for m in customer.bot_messages()}
        customer.send("/start")
        customer.press(plain(EN("menu.catalog")))
        customer.press("Games")
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            for message in customer.bot_messages():
                if int(message["message_id"]) in before:
                    continue
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                labels = " | ".join(b.get("text", "") for row in rows for b in row)
                if "Games" in plain(message.get("text") or "") and "Game key" in labels:
                    return labels
            time.sleep(0.25)
        raise JourneyFailed(f"no fresh Games page; the bot said {customer.texts()!r}")
