"""Showing a screen in answer to a button press."""

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, keep: bool = False
) -> None:
    """Answers the query and shows `text`: in place of the pressed message, or, with
    `keep` (the pressed message records goods, a receipt or a refund), in a new message
    below it, so the record is never edited away. A pressed message Telegram no longer
    shows the bot (older than 48 hours) gets the screen in a new message too."""
    await query.answer()
    if isinstance(query.message, Message):
        if keep:
            await query.message.answer(text, reply_markup=markup)
        else:
            await query.message.edit_text(text, reply_markup=markup)
    elif query.bot is not None:  # the shop's chats are private: the chat is the user
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)
