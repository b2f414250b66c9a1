"""Showing a screen in answer to a button press."""

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, keep: bool = False
) -> Message | None:
    """Answers the query and shows `text`: in place of the pressed message, or, with
    `keep` (the pressed message records goods, a receipt or a refund), in a new message
    below it, so the record is never edited away. A pressed message Telegram no longer
    shows the bot (older than 48 hours) gets the screen in a new message too.

    Returns the message now showing the screen (None when the bot could not tell)."""
    await query.answer()
    if isinstance(query.message, Message):
        if keep:
            return await query.message.answer(text, reply_markup=markup)
        edited = await query.message.edit_text(text, reply_markup=markup)
        # editMessageText answers True for inline messages; ours are chat messages.
        return edited if isinstance(edited, Message) else query.message
    if query.bot is not None:  # the shop's chats are private: the chat is the user
        return await query.bot.send_message(query.from_user.id, text, reply_markup=markup)
    return None
