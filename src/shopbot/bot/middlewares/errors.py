"""Friendly answers for failures, with an error id that matches the log line.

Refusals of the shop's rules (DomainError) are answered and the update is done.
What a failure's answer says depends on the bot mode (`failure_text`): "we are retrying,
no need to send it again" for a webhook failure Telegram will redeliver, "please try
again" where nothing retries (polling mode, permanent refusals).
A permanent Telegram refusal (400/401/403/404/409, see `shopbot.bot.failures`) is
answered, logged with the refused request and Telegram's description, and the update is
done too: a redelivery would fail the same way. Anything else (5xx, 429, the network, a
database or Redis outage, a bug) is answered, logged with details, and raised again, so
in webhook mode Telegram gets a non-2xx and redelivers (handlers are safe to run twice).
Across those redeliveries the user is told at most once per update: the coordination
store (Redis or memory) remembers that the update's failure was announced.
Every failure rolls back the update's unit of work (`data["uow"]`) before it is answered.
"""

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from structlog.contextvars import bound_contextvars

from shopbot.bot.context import BotContext
from shopbot.bot.failures import describe, is_permanent, not_modified
from shopbot.bot.middlewares.unit_of_work import roll_back
from shopbot.bot.texts import Texts, pick_language
from shopbot.domain.errors import DomainError, UserBlocked

log = logging.getLogger(__name__)
TOLD_TTL = 24 * 3600
"""Telegram keeps an undelivered update for 24 hours, so it cannot come back later."""


async def tell(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        with contextlib.suppress(TelegramAPIError):  # the handler may have answered it already
            await event.answer()
        if event.message is not None:
            await event.bot.send_message(event.from_user.id, text)  # type: ignore[union-attr]
    elif isinstance(event, Message):
        await event.answer(text)


async def first_telling(data: dict[str, Any]) -> bool:
    """True the first time a failure of this update is announced, across redeliveries
    and instances; True as well when that cannot be known (no update, Redis down):
    telling twice beats not telling at all."""
    ctx: BotContext | None = data.get("ctx")
    update: Update | None = data.get("event_update")
    bot = data.get("bot")
    if ctx is None or update is None or bot is None:
        return True
    key = f"shopbot:update:{bot.id}:{update.update_id}:told"
    try:
        return await ctx.coordination.set_if_absent(key, "1", TOLD_TTL)
    except Exception:  # the store is down; the failure itself is what gets logged
        log.warning("could not check whether update %s was answered", update.update_id)
        return True


def failure_text(data: dict[str, Any], *, permanent: bool) -> str:
    """The text key for a failed update. In webhook mode a failure raised again is
    redelivered by Telegram (it retries a non-2xx answer), so the user is told we are
    retrying and need not resend (a resent message would arrive twice): "error.retrying".
    In polling mode aiogram does not run a failed update again, and a permanent refusal
    is not retried in either mode, so "error.generic" asks them to try again."""
    ctx: BotContext | None = data.get("ctx")
    webhook = ctx is not None and ctx.settings.bot_mode == "webhook"
    return "error.retrying" if webhook and not permanent else "error.generic"


class ErrorMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        t: Texts = data.get("t") or Texts(pick_language(None))
        try:
            return await handler(event, data)
        except UserBlocked:
            await roll_back(data)
            await tell(event, t("error.blocked"))
        except DomainError as refusal:
            await roll_back(data)
            log.info("refused: %s", refusal)
            await tell(event, t("error.refused"))
        except Exception as error:
            # Before anything is said: no half-written update, no lock held while telling.
            await roll_back(data)
            if not_modified(error):
                # A double tap edits the screen to what it already shows: nothing to do.
                return None
            error_id = secrets.token_hex(4)
            # Every line about this failure carries the id the user is shown.
            with bound_contextvars(error_id=error_id):
                permanent = isinstance(error, TelegramAPIError) and is_permanent(error)
                if isinstance(error, TelegramAPIError) and permanent:
                    log.warning(
                        "update failed, not retried (Telegram refuses for good); error id %s: %s",
                        error_id,
                        describe(error),
                        exc_info=True,
                    )
                else:
                    log.exception("update failed, raised for redelivery; error id %s", error_id)
                try:
                    if await first_telling(data):
                        await tell(
                            event, t(failure_text(data, permanent=permanent), error_id=error_id)
                        )
                except Exception:  # the answer is a courtesy; the original failure matters
                    log.exception("could not tell the user about error %s", error_id)
                if not permanent:
                    raise
        return None
