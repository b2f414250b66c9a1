"""The scripted customer journey of `shopbot demo`, played through the Telegram emulator's
simulated user: catalog → a stock product → not enough balance → a Heleket top-up of the
missing amount → the signed webhook → the purchase completes by itself → the item."""

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopbot.bot.texts import Texts
from shopbot.demo.stack import DemoStack
from shopbot.demo.transcript import Transcript, plain
from shopbot.domain.ledger import user_account
from shopbot.domain.ledger.verification import LedgerReport

CUSTOMER_ID, CUSTOMER_NAME = 1001, "Alice"
CATEGORY, PRODUCT, SKU = "Games", "Game key", "game-key"
NOTICE_TIMEOUT = 20.0
EN = Texts("en")


class JourneyFailed(Exception):
    """The journey did not go as scripted (a button missing, no delivery, ...)."""


@dataclass
class Outcome:
    delivered: str | None
    report: LedgerReport
    balance: Decimal

    @property
    def ok(self) -> bool:
        return self.delivered is not None and self.report.sound


class Customer:
    def __init__(self, stack: DemoStack, transcript: Transcript) -> None:
        self.stack, self.transcript = stack, transcript
        self.emulator = stack.emulator
        self.emulator.create_user(CUSTOMER_ID, CUSTOMER_NAME, language_code="en")

    def show(self) -> None:
        self.transcript.bot_messages(self.emulator, CUSTOMER_ID)

    async def send(self, text: str) -> None:
        self.transcript.user(f"sends {text}")
        self.emulator.send_text(CUSTOMER_ID, text)
        await self.stack.idle()
        self.show()

    async def press(self, label: str) -> None:
        for message in reversed(self.emulator.messages(CUSTOMER_ID)):
            if message.sender != "bot":
                continue
            for row in message.buttons:
                for button in row:
                    text = button.get("text", "")
                    if label in text and "callback_data" in button:
                        self.transcript.user(f'taps "{text}"')
                        self.emulator.press(
                            CUSTOMER_ID, message.message_id, button["callback_data"]
                        )
                        await self.stack.idle()
                        self.show()
                        return
        raise JourneyFailed(f"no button {label!r} in the chat")

    def bot_texts(self) -> list[str]:
        return [
            plain(m.text or m.caption or "")
            for m in self.emulator.messages(CUSTOMER_ID)
            if m.sender == "bot"
        ]

    async def wait_text(self, *fragments: str) -> str:
        """The newest bot message containing one of `fragments` (waits for messages that
        come from outside the bot's own handlers: the webhook service's notifier)."""

        def found() -> str | None:
            for text in reversed(self.bot_texts()):
                if any(fragment in text for fragment in fragments):
                    return text
            return None

        try:
            text = await self.emulator.wait_for(found, NOTICE_TIMEOUT)
        except TimeoutError:
            text = None
        if text is None:
            raise JourneyFailed(f"the bot never said any of {fragments!r}")
        return text


async def heleket_get(stack: DemoStack, path: str, **params: Any) -> Any:
    response = await stack.heleket.get(f"/sandbox{path}", params=params)
    if response.status_code != 200:
        raise JourneyFailed(f"Heleket emulator: GET {path} answered {response.status_code}")
    return response.json()


async def pay_on_heleket(stack: DemoStack, transcript: Transcript) -> None:
    snapshots = await heleket_get(stack, "/invoices")
    if len(snapshots) != 1:
        raise JourneyFailed(f"expected one Heleket invoice, found {len(snapshots)}")
    invoice = snapshots[0]["invoice"]
    uuid = invoice["uuid"]
    transcript.heleket(
        f"invoice {uuid}: {invoice['amount']} {invoice['currency']} "
        f"(order {invoice['order_id']}, status {invoice.get('payment_status')})\n"
        f"payment page {invoice['url']}"
    )
    transcript.user(f"pays the invoice on the Heleket page ({invoice['amount']} exactly)")
    response = await stack.heleket.post(f"/sandbox/invoices/{uuid}/pay", json={})
    if response.status_code != 200:
        raise JourneyFailed(f"Heleket emulator refused the payment: {response.text}")
    paid = response.json()
    transcript.heleket(
        f"invoice {uuid} is {paid['invoice'].get('payment_status')}: paid {paid['paid']}"
        f" {paid['invoice'].get('payer_currency') or ''}".rstrip()
    )
    settled = await stack.heleket.get("/sandbox/settle", params={"timeout": NOTICE_TIMEOUT})
    if settled.status_code != 200:
        raise JourneyFailed("the Heleket emulator could not deliver its webhook")
    for attempt in await heleket_get(stack, "/deliveries", uuid=uuid):
        body_status = _status_of(attempt.get("body", ""))
        result = attempt.get("status_code") or attempt.get("error")
        transcript.webhook(
            f"signed webhook ({body_status}) POST {attempt['url']} → {result}"
            f"{' OK' if attempt.get('ok') else ''} (attempt {attempt['attempt']})"
        )


def _status_of(body: str) -> str:
    try:
        return str(json.loads(body).get("status", "?"))
    except ValueError:
        return "?"


async def play(stack: DemoStack, transcript: Transcript) -> Outcome:
    """Plays the journey; raises JourneyFailed when a step does not happen."""
    alice = Customer(stack, transcript)
    await alice.send("/start")
    await alice.press(plain(EN("menu.catalog")))
    await alice.press(CATEGORY)
    await alice.press(PRODUCT)
    await alice.press("Buy for")
    if not any("Not enough balance" in text for text in alice.bot_texts()[-1:]):
        raise JourneyFailed("the bot did not say the balance is not enough")
    await alice.press("Top up")
    await alice.press(plain(EN("topup.method_heleket")))

    await pay_on_heleket(stack, transcript)
    items = stack.stock[SKU]
    await alice.wait_text("topped up")
    delivered_text = await alice.wait_text(*items)
    await stack.idle()
    alice.show()
    delivered = next((item for item in items if item in delivered_text), None)

    async with stack.uows() as uow:
        report = await uow.ledger.verify()
        balance = await uow.ledger.balance(user_account(CUSTOMER_ID))
    return Outcome(delivered, report, balance)
