"""Friendly answers for failures, with an error id that matches the log line.

Refusals of the shop's rules (DomainError) are answered and the update is done.
Anything else is answered too, logged with details, and raised again, so in webhook
mode Telegram gets a non-2xx and redelivers (handlers are safe to run twice).
"""

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Message, TelegramObject

from shopbot.bot.texts import Texts, pick_language
from shopbot.domain.errors import DomainError, UserBlocked

log = logging.getLogger(__name__)


async def tell(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        with contextlib.suppress(TelegramAPIError):  # the handler may have answered it already
            await event.answer()
        if event.message is not None:
            await event.bot.send_message(event.from_user.id, text)  # type: ignore[union-attr]
    elif isinstance(event, Message):
        await event.answer(text)


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
            await tell(event, t("error.blocked"))
        except DomainError as refusal:
            log.info("refused: %s", refusal)
            await tell(event, t("error.refused"))
        except Exception as error:
            if isinstance(error, TelegramBadRequest) and "message is not modified" in error.message:
                # A double tap edits the screen to what it already shows: nothing to do.
                return None
            error_id = secrets.token_hex(4)
            log.exception("update failed; error id %s", error_id)
            try:
                await tell(event, t("error.generic", error_id=error_id))
            except Exception:  # the answer is a courtesy; the original failure matters
                log.exception("could not tell the user about error %s", error_id)
            raise
        return None
