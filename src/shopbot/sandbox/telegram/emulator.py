"""The emulator object: state (core), simulated users, Bot API execution and webhook
workers. Reachable as `app["emulator"]`; every public method works in-process."""

import asyncio
from typing import Any

import aiohttp

from shopbot.sandbox.telegram import api_files, api_messages, api_payments, api_updates
from shopbot.sandbox.telegram.albums import AlbumActions
from shopbot.sandbox.telegram.config import EmulatorConfig
from shopbot.sandbox.telegram.delivery import WebhookWorker
from shopbot.sandbox.telegram.faults import Faults
from shopbot.sandbox.telegram.groups import GroupActions
from shopbot.sandbox.telegram.methods import Params, execute
from shopbot.sandbox.telegram.state import BotState, Webhook, bad_request

API_MODULES = (api_messages, api_files, api_payments, api_updates)  # they register methods


class Emulator(GroupActions, AlbumActions):
    def __init__(self, config: EmulatorConfig) -> None:
        super().__init__(config)
        self.closing = False
        self.faults = Faults()  # errors to answer instead of running a method (tests)
        self._workers: dict[str, WebhookWorker] = {}
        self._http: aiohttp.ClientSession | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.closing = False
        for bot in self.bots.values():
            if bot.webhook is not None and bot.token not in self._workers:
                self._workers[bot.token] = WebhookWorker(self, bot)

    async def stop(self) -> None:
        """Stops deliveries and wakes long polls (they answer with no updates)."""
        self.closing = True
        workers = list(self._workers.values())
        self._workers.clear()
        for worker in workers:
            worker.stop()
        await asyncio.gather(*(w.task for w in workers), return_exceptions=True)
        for bot in self.bots.values():
            bot.updates_signal.fire()
        for query in (q for b in self.bots.values() for q in b.pre_checkouts.values()):
            if not query.answer.done():
                query.answer.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(headers={"User-Agent": "telegram-emulator"})
        return self._http

    # --- Bot API -------------------------------------------------------------------------

    async def call(
        self, bot: BotState | str, method: str, params: Params | dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Executes a Bot API method in-process: (HTTP status, JSON body)."""
        state = bot if isinstance(bot, BotState) else self.bot(bot)
        if not isinstance(params, Params):
            fields = {k: v if isinstance(v, str) else str(v) for k, v in (params or {}).items()}
            params = Params(fields)
        return await execute(self, state, method, params)

    def set_webhook(
        self, bot: BotState, webhook: Webhook | None, *, drop_pending_updates: bool = False
    ) -> None:
        worker = self._workers.pop(bot.token, None)
        if worker is not None:
            worker.stop()
        if drop_pending_updates:
            bot.updates.clear()
        for update in bot.updates:
            update.fetched, update.attempts = False, 0
        bot.webhook = webhook
        if webhook is not None:
            self._workers[bot.token] = WebhookWorker(self, bot)
        bot.updates_signal.fire()  # a waiting getUpdates answers 409
        self.changed.fire()

    async def fetch_url(self, url: str) -> tuple[bytes, str | None]:
        """Telegram downloads files given by URL (sendDocument/sendPhoto)."""
        try:
            timeout = aiohttp.ClientTimeout(total=30)
            async with self.http().get(url, timeout=timeout) as response:
                if response.status != 200:
                    raise bad_request("failed to get HTTP URL content")
                content = await response.read()
                mime = response.headers.get("Content-Type", "").split(";")[0] or None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise bad_request("failed to get HTTP URL content") from exc
        if not content:
            raise bad_request("wrong type of the web page content")
        return content, mime

    # --- snapshot for the control API ----------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "bots": [
                {
                    "id": bot.id,
                    "username": bot.username,
                    "first_name": bot.first_name,
                    "mode": bot.mode,
                    "webhook_url": bot.webhook.url if bot.webhook else None,
                    "pending_update_count": len(bot.updates),
                    "polling_now": bot.pollers > 0,
                    "allowed_updates": sorted(bot.allowed_updates),
                    "dropped_updates": len(bot.dropped_updates),
                    "chats": [
                        {
                            "id": chat.id,
                            "type": chat.type,
                            "title": chat.title,
                            "blocked": chat.blocked,
                            "messages": len(chat.messages),
                            "reply_keyboard": chat.reply_keyboard,
                        }
                        for chat in bot.chats.values()
                    ],
                    "idle": self.is_idle(bot),
                }
                for bot in self.bots.values()
            ],
            "users": [user.to_api() for user in self.users.values()],
            "flood": {"per_chat": self.per_chat_rate, "global": self.global_rate},
        }
