"""The whole bot on loopback: the Telegram Bot API emulator, the real aiogram `Bot` and
`Dispatcher` (polling or webhook mode), real PostgreSQL, and optionally the Heleket
emulator with the real webhook service; the bot and the service are built by the same
`shopbot.composition` builders as in production.

    async with bot_stack(pg_url, mode="webhook", admin_ids=[900]) as stack:
        alice = stack.user(1001, "Alice", language="ru")
        await alice.send("/start")
        await alice.press("Каталог")
        assert "..." in alice.last_text()
"""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.bot.context import BotContext
from shopbot.composition.bot import bot_process
from shopbot.composition.webhook import webhook_service
from shopbot.config import Settings
from shopbot.demo.updates import IDLE_TIMEOUT, UpdateTracker
from shopbot.http.serve import free_port, serve
from shopbot.http.serve_aiohttp import serve_aiohttp
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox import heleket as heleket_sandbox
from shopbot.sandbox.telegram import (
    EMULATOR,
    AlbumItem,
    CallbackQuery,
    Emulator,
    EmulatorConfig,
    Message,
    create_app,
)
from tests.integration.webhook_fixtures import FAST_RETRY, MERCHANT, PAYMENT_KEY, PAYOUT_KEY

TOKEN = "123456:TEST-shop_bot_token-Zk9"
BOT_ID, BOT_USERNAME = 123456, "shop_test_bot"
WEBHOOK_SECRET = "test-webhook-secret_42"
NO_RATE_LIMITS = {
    "rate_limit_messages_per_minute": 0,
    "rate_limit_operations_per_minute": 0,
    "rate_limit_payments_per_minute": 0,
    "rate_limit_global_per_second": 0,
}


@dataclass
class ChatUser:
    """A simulated Telegram user talking to the bot; every action waits until the bot
    has handled it (`Emulator.wait_idle`)."""

    stack: "BotStack"
    id: int

    @property
    def emulator(self) -> Emulator:
        return self.stack.emulator

    async def send(self, text: str, *, reply_to: int | None = None) -> None:
        self.emulator.send_text(self.id, text, reply_to=reply_to)
        await self.stack.idle()

    def message_with_button(self, label: str) -> tuple[Message, str]:
        """The newest bot message with a button whose text contains `label`."""
        for message in reversed(self.messages(sender="bot")):
            for row in message.buttons:
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r}; last bot message: {self.last_text()!r}")

    async def press(self, label: str) -> str:
        """Presses the button labelled `label`; returns the callback query id."""
        message, data = self.message_with_button(label)
        query_id = self.emulator.press(self.id, message.message_id, data)
        await self.stack.idle()
        return query_id

    async def press_data(self, message_id: int, callback_data: str) -> str:
        query_id = self.emulator.press(self.id, message_id, callback_data)
        await self.stack.idle()
        return query_id

    async def send_document(self, filename: str, content: bytes, mime: str = "text/plain") -> None:
        self.emulator.send_document(self.id, filename, content, mime)
        await self.stack.idle()

    async def send_album(
        self, items: Sequence[AlbumItem], *, caption: str | None = None, reply_to: int | None = None
    ) -> list[Message]:
        """2-10 photos or documents as one album: one update per item (as Telegram)."""
        sent = self.emulator.send_album(self.id, items, caption=caption, reply_to=reply_to)
        await self.stack.idle()
        return sent

    async def send_location(
        self, latitude: float, longitude: float, *, reply_to: int | None = None
    ) -> None:
        self.emulator.send_location(self.id, latitude, longitude, reply_to=reply_to)
        await self.stack.idle()

    async def pay_invoice(self) -> Any:
        """Pays the newest Stars invoice (pre-checkout round trip included)."""
        invoice = next(m for m in reversed(self.messages(sender="bot")) if m.invoice)
        outcome = await self.emulator.pay(self.id, invoice.message_id)
        await self.stack.idle()
        return outcome

    def messages(self, sender: str | None = None) -> list[Message]:
        found = self.emulator.messages(self.id)
        return [m for m in found if sender is None or m.sender == sender]

    def last_text(self) -> str:
        bot_messages = self.messages(sender="bot")
        if not bot_messages:
            return ""
        last = bot_messages[-1]
        return last.text or last.caption or ""

    def bot_texts(self) -> list[str]:
        return [m.text or m.caption or "" for m in self.messages(sender="bot")]

    def buttons(self) -> list[str]:
        bot_messages = self.messages(sender="bot")
        if not bot_messages:
            return []
        return [b.get("text", "") for row in bot_messages[-1].buttons for b in row]


@dataclass
class BotStack:
    emulator: Emulator
    bot: Bot
    dispatcher: Dispatcher
    ctx: BotContext
    settings: Settings
    mode: str
    heleket: Any = None
    """With `heleket=True`: an object with `emulator` (httpx client to the Heleket
    emulator), `gateway` (HeleketClient) and `webhook_url` (the real webhook service)."""
    users: dict[int, ChatUser] = field(default_factory=dict)
    updates: UpdateTracker = field(init=False)

    def __post_init__(self) -> None:
        self.updates = UpdateTracker(self.emulator, self.dispatcher)

    @property
    def uows(self) -> UnitOfWorkFactory:
        return self.ctx.uows

    def user(
        self,
        user_id: int,
        first_name: str = "",
        *,
        language: str = "en",
        username: str | None = None,
    ) -> ChatUser:
        self.emulator.create_user(
            user_id, first_name or f"User{user_id}", username=username, language_code=language
        )
        return self.users.setdefault(user_id, ChatUser(self, user_id))

    async def idle(self, seconds: float = IDLE_TIMEOUT) -> None:
        await self.updates.idle(seconds)


@dataclass
class HeleketParts:
    emulator: Any
    gateway: HeleketClient
    webhook_url: str


@asynccontextmanager
async def _heleket(
    database_url: str, stack_settings: dict[str, Any]
) -> AsyncIterator[HeleketParts]:
    import httpx

    emulator_port, webhook_port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    config = heleket_sandbox.EmulatorConfig(
        merchants={MERCHANT: (PAYMENT_KEY, PAYOUT_KEY)},
        public_url=emulator_url,
        webhook_attempts=12,
        webhook_base_delay=0.1,
        webhook_max_delay=1.0,
    )
    stack_settings.update(
        heleket_merchant_id=MERCHANT,
        heleket_api_key=PAYMENT_KEY,
        heleket_payout_key=PAYOUT_KEY,
        heleket_api_url=emulator_url,
        heleket_allowed_ips=["127.0.0.1"],
        heleket_webhook_url=f"http://127.0.0.1:{webhook_port}/webhook/heleket",
        reconcile_interval_seconds=0,
    )
    settings = Settings(_env_file=None, database_url=database_url, **stack_settings)  # type: ignore[call-arg]
    async with (
        webhook_service(settings, heleket_retry=FAST_RETRY) as service,
        serve(heleket_sandbox.create_app(config), port=emulator_port),
        serve(service.app, port=webhook_port),
        httpx.AsyncClient(base_url=emulator_url, timeout=60) as client,
    ):
        assert isinstance(service.gateway, HeleketClient)  # built from the settings
        yield HeleketParts(
            client, service.gateway, f"http://127.0.0.1:{webhook_port}/webhook/heleket"
        )


@asynccontextmanager
async def bot_stack(
    database_url: str,
    *,
    mode: str = "polling",
    admin_ids: list[int] | None = None,
    heleket: bool = False,
    flood: tuple[int | None, int | None] = (None, None),
    redis_cluster_nodes: Sequence[str] = (),
    **overrides: Any,
) -> AsyncIterator[BotStack]:
    config = EmulatorConfig(
        bots={TOKEN: (BOT_ID, BOT_USERNAME, "Shop")},
        per_chat_rate=flood[0],
        global_rate=flood[1],
        webhook_base_delay=0.1,
        webhook_max_delay=1.0,
    )
    emulator_app = create_app(config)
    async with serve_aiohttp(emulator_app) as telegram_url, contextlib.AsyncExitStack() as stack:
        values: dict[str, Any] = {
            "telegram_token": TOKEN,
            "telegram_api_url": telegram_url,
            "admin_ids": admin_ids or [],
            "telegram_webhook_secret": WEBHOOK_SECRET,
            "bot_mode": mode,
            "redis_cluster_nodes": list(redis_cluster_nodes),
            # The journeys tap faster than any person and, with Redis, would share
            # buckets across tests by user id: rate limits are off unless a test sets
            # them (tests/e2e/test_bot_rate_limits.py does).
            **NO_RATE_LIMITS,
        }
        values.update(overrides)
        parts = await stack.enter_async_context(_heleket(database_url, values)) if heleket else None
        bot_port = free_port()
        if mode == "webhook":
            values["public_base_url"] = f"http://127.0.0.1:{bot_port}"
        settings = Settings(_env_file=None, database_url=database_url, **values)  # type: ignore[call-arg]
        process = await stack.enter_async_context(
            bot_process(settings, gateway=parts.gateway if parts else None)
        )
        bot, dispatcher = process.bot, process.dispatcher
        polling: asyncio.Task[None] | None = None
        try:
            if process.webhook_app is not None:
                await stack.enter_async_context(serve_aiohttp(process.webhook_app, port=bot_port))
            else:
                polling = asyncio.create_task(
                    dispatcher.start_polling(
                        bot,
                        handle_signals=False,
                        handle_as_tasks=False,
                        polling_timeout=1,
                        close_bot_session=False,
                    )
                )
            emulator: Emulator = emulator_app[EMULATOR]
            yield BotStack(emulator, bot, dispatcher, process.ctx, settings, mode, heleket=parts)
        finally:
            if polling is not None:
                # stop_polling() waits forever when the dispatcher's shutdown fails; the
                # polling task then holds the real error, which the next line raises.
                with contextlib.suppress(RuntimeError, TimeoutError):
                    await asyncio.wait_for(dispatcher.stop_polling(), timeout=10)
                await asyncio.wait_for(polling, timeout=10)


async def press_forged(
    stack: "BotStack", user_id: int, message: Message, data: str, *, chat_id: int | None = None
) -> str:
    """A press of `data` on `message` (in `chat_id`, by default the user's private chat)
    although the message has no such button (a modified client can send any callback
    data); returns the text of the bot's answer to the callback query."""
    emu, state = stack.emulator, stack.emulator.bot()
    query_id = f"forged-{secrets.randbits(32)}"
    chat = user_id if chat_id is None else chat_id
    state.callback_queries[query_id] = CallbackQuery(
        query_id, user_id, chat, message.message_id, data
    )
    emu.enqueue(
        state,
        "callback_query",
        {
            "id": query_id,
            "from": emu.user(user_id).to_api(),
            "message": emu.message_json(state, message),
            "chat_instance": "private" if chat_id is None else str(chat_id),
            "data": data,
        },
    )
    await stack.idle()
    return emu.callback_answer(query_id).text or ""
