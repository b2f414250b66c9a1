"""Albums (media groups). Telegram delivers an album of 2-10 photos, videos or documents
as separate messages sharing one `media_group_id`, each in its own update
(https://core.telegram.org/bots/api#message); in webhook mode with several instances
they may be handled by different instances, in any order and concurrently.

So a handler that takes an album item must (1) let the album's later items reach the
same handler after the first one changed the FSM state, and (2) answer once per album,
not once per item. Both are remembered in the coordination store (Redis or memory),
keyed by bot, chat and media_group_id, so every instance sees them.
"""

import asyncio
import json
from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message

from shopbot.bot.context import BotContext

ALBUM_TTL = 3600
"""Seconds an album's routing and answers are remembered: its items arrive within
seconds, redeliveries of a failed item within Telegram's retry schedule."""


def _key(message: Message, what: str) -> str:
    bot_id = message.bot.id if message.bot is not None else 0
    return f"shopbot:album:{bot_id}:{message.chat.id}:{message.media_group_id}:{what}"


async def route_album(
    ctx: BotContext, message: Message, purpose: str, payload: dict[str, Any] | None = None
) -> None:
    """Remember that `message`'s album goes to `purpose` (e.g. "support"), with the
    JSON-able `payload` its later items need (e.g. the FSM data that routed the first);
    a no-op outside an album. Call it before clearing the state that routed the item."""
    if message.media_group_id is not None:
        value = json.dumps({"purpose": purpose, "payload": payload or {}})
        await ctx.coordination.set(_key(message, "route"), value, ALBUM_TTL)


class AlbumOf(Filter):
    """A message filter: the message is an item of an album routed to `purpose`; the
    handler then gets the route's payload as `album` (a dict)."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose

    async def __call__(  # aiogram passes the filter what the handler gets, ctx included
        self, message: Message, ctx: BotContext
    ) -> bool | dict[str, Any]:
        if message.media_group_id is None:
            return False
        value = await ctx.coordination.get(_key(message, "route"))
        route = json.loads(value) if value else {}
        if route.get("purpose") != self.purpose:
            return False
        return {"album": route.get("payload") or {}}


async def first_in_album(ctx: BotContext, message: Message, what: str) -> bool:
    """True once per album for `what` (e.g. "confirm"), and always for a message outside
    an album: whether this item is the one that gives the album's single answer."""
    if message.media_group_id is None:
        return True
    return await ctx.coordination.set_if_absent(_key(message, what), "1", ALBUM_TTL)


ALBUM_DECISION_WAIT = 10.0
"""Seconds an album item waits for the decision another item is making (e.g. which
chat the album goes to) before deciding for itself; a decision takes a few Bot API
calls, and the decider releases its claim when it fails."""
_POLL = 0.05


async def album_decision(ctx: BotContext, message: Message, what: str) -> str | None:
    """The value one item of `message`'s album recorded for `what` (e.g. the chat it
    went to), so every item and every instance follows it. None: this item decides
    (outside an album, the album's first item to ask, or the decider gave up or took
    longer than ALBUM_DECISION_WAIT); it must then call `record_decision`."""
    if message.media_group_id is None:
        return None
    key, claim = _key(message, what), _key(message, f"{what}:deciding")
    deadline = asyncio.get_running_loop().time() + ALBUM_DECISION_WAIT
    while True:
        value = await ctx.coordination.get(key)
        if value is not None:
            return value
        if await ctx.coordination.set_if_absent(claim, "1", ALBUM_TTL):
            return None
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(_POLL)


async def record_decision(ctx: BotContext, message: Message, what: str, value: str | None) -> None:
    """Record the deciding item's `value` for its album (first writer wins); None: no
    decision (e.g. nobody could be reached), so the claim is released and the next item
    decides for itself. A no-op outside an album."""
    if message.media_group_id is None:
        return
    if value is not None:  # the claim stays (until ALBUM_TTL): the value answers all
        await ctx.coordination.set_if_absent(_key(message, what), value, ALBUM_TTL)
    else:
        await ctx.coordination.delete(_key(message, f"{what}:deciding"))
