"""Webhook delivery: POST each update as JSON to the webhook URL, one at a time and in
order, with `X-Telegram-Bot-Api-Secret-Token` when a secret is set. A non-2xx answer, a
connection error or a timeout keeps the update queued and retries it after
min(base * 2**(n-1), max) seconds; after `webhook_attempts` failures it is dropped.
Every attempt is recorded, with `from_id`, the user whose action the update carries
(None for an update without a sender). A method in a 2xx answer (aiogram answers with one when a
handler *returns* a method) is executed like Telegram does, its result discarded.
"""

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from shopbot.sandbox.telegram.methods import Params, Upload, execute
from shopbot.sandbox.telegram.state import BotState, Update

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator


async def read_reply(response: aiohttp.ClientResponse) -> Params | None:
    """The method call a webhook answered with, if any."""
    content_type = response.headers.get("Content-Type", "")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    if content_type.startswith("multipart/"):
        reader = aiohttp.MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                continue
            if part.filename:
                content = await part.read(decode=True)
                files[part.name] = Upload(
                    part.filename, bytes(content), part.headers.get("Content-Type")
                )
            else:
                fields[part.name] = await part.text()
    elif "json" in content_type:
        try:
            data = json.loads(await response.read() or b"{}")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        for key, value in data.items():
            fields[key] = value if isinstance(value, str) else json.dumps(value)
    if not fields.get("method"):
        return None
    return Params(fields, files)


class WebhookWorker:
    def __init__(self, emu: "Emulator", bot: BotState) -> None:
        self.emu = emu
        self.bot = bot
        self.task: asyncio.Task[None] = asyncio.create_task(self.run())

    def stop(self) -> None:
        self.task.cancel()
        self.bot.delivering = False

    async def run(self) -> None:
        bot = self.bot
        while bot.webhook is not None:
            if not bot.updates:
                await bot.updates_signal.wait(1.0)
                continue
            update = bot.updates[0]
            bot.delivering = True
            try:
                ok = await self.attempt(update)
            finally:
                bot.delivering = False
                bot.last_activity = time.monotonic()
                self.emu.changed.fire()
            if ok or update.attempts >= self.emu.config.webhook_attempts:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.popleft()
                self.emu.changed.fire()
                continue
            config = self.emu.config
            delay = config.webhook_base_delay * 2 ** (update.attempts - 1)
            await asyncio.sleep(min(delay, config.webhook_max_delay))

    async def attempt(self, update: Update) -> bool:
        webhook = self.bot.webhook
        assert webhook is not None
        update.attempts += 1
        record: dict[str, Any] = {
            "update_id": update.update_id,
            "type": update.type,
            "from_id": (update.payload.get("from") or {}).get("id"),
            "attempt": update.attempts,
            "url": webhook.url,
            "status": None,
            "error": None,
            "ok": False,
            "at": time.time(),
        }
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        body = json.dumps(update.to_api(), ensure_ascii=False).encode("utf-8")
        timeout = aiohttp.ClientTimeout(total=self.emu.config.webhook_timeout)
        reply: Params | None = None
        try:
            async with self.emu.http().post(
                webhook.url, data=body, headers=headers, timeout=timeout
            ) as response:
                record["status"] = response.status
                if 200 <= response.status < 300:
                    record["ok"] = True
                    reply = await read_reply(response)
                else:
                    record["error"] = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
        except TimeoutError:
            record["error"] = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            record["error"] = "Connection refused"
        except aiohttp.ClientError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        self.bot.deliveries.append(record)  # recorded once the attempt is over
        if not record["ok"]:
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = record["error"]
            if update.attempts >= self.emu.config.webhook_attempts:
                record["gave_up"] = True
            return False
        if reply is not None:
            record["reply_method"] = reply.value("method")
            await execute(self.emu, self.bot, reply.value("method"), reply, via="webhook_reply")
        return True
