"""Measuring texts the way Telegram does, before sending them.

Telegram counts its limits (4096 for a message text, 1024 for a caption; Bot API
sendMessage / sendDocument) on the text *after* entity parsing, in UTF-16 code units.
The bot's texts are HTML (parse mode HTML), so `len()` of the source is wrong both ways:
`&amp;` is 5 characters of source but 1 of text, and 😀 is 1 Python character but 2
units. Decisions about length use `visible_length` instead.
"""

import html
import re

from shopbot.domain.catalog.limits import telegram_length

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """UTF-16 code units of the text Telegram shows for `html_text` (tags removed,
    entities decoded). Leading and trailing whitespace is counted, though Telegram trims
    it, so the result is never below what Telegram counts."""
    return telegram_length(html.unescape(_TAG.sub("", html_text)))


def fits(html_text: str, limit: int = MESSAGE_LIMIT) -> bool:
    """Whether Telegram accepts `html_text` as a message (or, with CAPTION_LIMIT, as a
    caption)."""
    return visible_length(html_text) <= limit


def clip(text: str, limit: int) -> str:
    """Plain `text` cut to at most `limit` UTF-16 code units, ending in "…" when cut;
    never splits a surrogate pair. For previews of operator texts, never for goods."""
    if telegram_length(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        size = telegram_length(char)
        if used + size > limit - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + "…"
