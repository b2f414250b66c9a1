"""Showing a screen in answer to a button press."""

import contextlib
import logging

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from shopbot.bot.failures import describe, not_modified, retrying

log = logging.getLogger(__name__)


async def show(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, keep: bool = False
) -> Message | None:
    """Answers the query and shows `text`: in place of the pressed message, or, with
    `keep` (the pressed message records goods, a receipt or a refund), in a new message
    below it, so the record is never edited away. A pressed message Telegram no longer
    shows the bot (older than 48 hours) gets the screen in a new message too, and so does
    a pressed photo (the admin's stats chart): Telegram cannot turn it into text.

    Returns the message now showing the screen (None when the bot could not tell)."""
    await query.answer()
    if isinstance(query.message, Message):
        if keep or query.message.text is None:
            return await query.message.answer(text, reply_markup=markup)
        try:
            edited = await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if not_modified(exc):  # a double tap: the screen shows already
                return query.message
            raise
        # editMessageText answers True for inline messages; ours are chat messages.
        return edited if isinstance(edited, Message) else query.message
    if query.bot is not None:  # the shop's chats are private: the chat is the user
        return await query.bot.send_message(query.from_user.id, text, reply_markup=markup)
    return None


async def show_after_money(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup,
    *,
    subject: str = "result of a money action",
) -> bool:
    """`show` for a result after money has moved (a refund done, ...): never raises, so
    no later Telegram failure can report a completed money action as failed. The pressed
    message is edited (retried on 429/5xx, `failures.retrying`); if that fails for good
    (deleted, ...) the text comes as a new message, retried the same way. False when
    neither reached the chat (logged, naming `subject`)."""
    with contextlib.suppress(TelegramAPIError):  # only stops the button's spinner
        await query.answer()
    pressed = query.message
    if isinstance(pressed, Message):
        try:
            await retrying(lambda: pressed.edit_text(text, reply_markup=markup))
            return True
        except TelegramAPIError as exc:
            if not_modified(exc):
                return True
            log.warning("editing the %s failed: %s", subject, describe(exc))
    if query.bot is None:
        return False
    bot, chat_id = query.bot, query.from_user.id  # the shop's chats are private
    try:
        await retrying(lambda: bot.send_message(chat_id, text, reply_markup=markup))
    except TelegramAPIError as exc:
        log.error("the %s was not shown: %s", subject, describe(exc))
        return False
    return True
