"""Lengths of the texts the shop shows in Telegram, counted as Telegram counts them.

Telegram limits a message text to 4096 and a caption to 1024 *UTF-16 code units* of the
text after entity parsing (Bot API, sendMessage `text` / sendDocument `caption`): an
emoji outside the Basic Multilingual Plane counts 2, a Cyrillic letter 1. The limits
here are in the same unit, so a value that passes them fits the screens that show it:

- a title (MAX_TITLE) appears in buttons, the product card, the purchase confirmation,
  delivery messages and captions (a 1024-unit caption holds it with its frame);
- a description (MAX_DESCRIPTION) shares the product card with the title and the price
  lines: 128 + 3000 + the frame stay under 4096;
- a stock item (MAX_ITEM_LENGTH) fits a message on its own; with the delivery frame it
  may not, and then the delivery is sent as a .txt file (see `shopbot.bot.delivery`);
- unlimited content (MAX_CONTENT) is delivered in a message when it fits, else as a file.
"""

MAX_TITLE = 128
MAX_DESCRIPTION = 3000
MAX_ITEM_LENGTH = 4000
MAX_CONTENT = 20000
"""Bounded so an operator's mistake (a whole file pasted as content) is refused; longer
than any message, it is delivered as a file."""


def telegram_length(text: str) -> int:
    """The length of plain `text` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
