"""Showing a screen in answer to a button press."""

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, keep: bool = False
) -> None:
    """Answers the query and shows `text`: in place of the pressed message, or, with
    `keep` (the pressed message records goods, a receipt or a refund), in a new message
    below it, so the record is never edited away."""
    await query.answer()
    if not isinstance(query.message, Message):
        return  # too old to edit or answer under; the answer above is all we can do
    if keep:
        await query.message.answer(text, reply_markup=markup)
    else:
        await query.message.edit_text(text, reply_markup=markup)
