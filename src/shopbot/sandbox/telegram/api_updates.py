"""Bot API methods on update delivery: getUpdates (long polling), setWebhook,
deleteWebhook and getWebhookInfo."""

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shopbot.sandbox.telegram.methods import Described, Params, method
from shopbot.sandbox.telegram.state import (
    ALL_UPDATES,
    DEFAULT_UPDATES,
    ApiError,
    BotState,
    Update,
    Webhook,
    bad_request,
)

if TYPE_CHECKING:
    from shopbot.sandbox.telegram.emulator import Emulator

WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
SECRET_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def update_allowed(bot: BotState, params: Params) -> None:
    """allowed_updates: absent keeps the previous setting, [] means Telegram's default."""
    if not params.has("allowed_updates"):
        return
    try:
        value = json.loads(params.value("allowed_updates") or "[]")
    except ValueError:
        return
    names = {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()
    allowed = frozenset(names & ALL_UPDATES)
    bot.allowed_updates = allowed or DEFAULT_UPDATES


def confirm(bot: BotState, offset: int) -> None:
    """offset > 0 forgets the updates below it; offset < 0 keeps only the last -offset."""
    if offset > 0:
        while bot.updates and bot.updates[0].update_id < offset:
            bot.updates.popleft()
    elif offset < 0:
        while len(bot.updates) > -offset:
            bot.updates.popleft()


def available(bot: BotState, offset: int, limit: int) -> list[Update]:
    return [u for u in bot.updates if u.update_id >= offset][:limit]


@method("getUpdates")
async def get_updates(emu: "Emulator", bot: BotState, params: Params) -> Any:
    if bot.webhook:
        raise ApiError(409, WEBHOOK_ACTIVE)
    offset = params.integer("offset")
    limit = params.integer("limit", 100, 1, 100)
    timeout = params.integer("timeout", 0, 0, emu.config.long_poll_max_timeout)
    update_allowed(bot, params)
    bot.poll_generation += 1
    generation = bot.poll_generation
    confirm(bot, offset)
    deadline = time.monotonic() + timeout
    while True:
        batch = available(bot, offset, limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0 or emu.closing:
            break
        bot.pollers += 1
        try:
            await bot.updates_signal.wait(min(remaining, 0.25))
        finally:
            bot.pollers -= 1
        if not params.alive():
            return []  # the poller went away (e.g. stopped): nothing counts as fetched
        if bot.poll_generation != generation:
            raise ApiError(409, TERMINATED)
        if bot.webhook:
            raise ApiError(409, "Conflict: terminated by setWebhook request")
    if not params.alive():
        return []
    for update in batch:
        update.fetched = True
    emu.changed.fire()
    return [update.to_api() for update in batch]


@method("setWebhook")
async def set_webhook(emu: "Emulator", bot: BotState, params: Params) -> Any:
    url = params.value("url")
    if not url:
        return await delete_webhook(emu, bot, params)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = params.value("secret_token")
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not set(secret) <= SECRET_CHARS:
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40, 1, 100)
    drop = params.flag("drop_pending_updates")
    update_allowed(bot, params)
    new = Webhook(url, secret or None, max_connections)
    old = bot.webhook
    settings = (new.url, new.secret_token, new.max_connections)
    if old and not drop and (old.url, old.secret_token, old.max_connections) == settings:
        return Described(True, "Webhook is already set")
    emu.set_webhook(bot, new, drop_pending_updates=drop)
    return Described(True, "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(emu: "Emulator", bot: BotState, params: Params) -> Any:
    was_set = bot.webhook is not None
    emu.set_webhook(bot, None, drop_pending_updates=params.flag("drop_pending_updates"))
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(emu: "Emulator", bot: BotState, params: Params) -> Any:
    webhook = bot.webhook
    info: dict[str, Any] = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if webhook:
        if webhook.last_error_date:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        info["max_connections"] = webhook.max_connections
        info["ip_address"] = "127.0.0.1"
    if bot.allowed_updates != DEFAULT_UPDATES:
        info["allowed_updates"] = sorted(bot.allowed_updates)
    return info
