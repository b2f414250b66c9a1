"""Measuring texts the way Telegram does, before sending them.

Telegram counts its limits (4096 for a message text, 1024 for a caption; Bot API
sendMessage / sendDocument) on the text *after* entity parsing, in UTF-16 code units.
The bot's texts are HTML (parse mode HTML), so `len()` of the source is wrong both ways:
`&amp;` is 5 characters of source but 1 of text, and 😀 is 1 Python character but 2
units. Decisions about length use `visible_length` instead.
"""

import html
import re
import unicodedata

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


_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
"""Zero-width joiner and variation selectors: a cut next to one breaks an emoji."""


def _breakable(text: str, index: int) -> bool:
    """Whether `text` may be cut before `text[index]` without breaking a character as
    shown: not inside an emoji sequence (ZWJ, variation selector, skin tone) and not
    before a combining mark."""
    after, before = text[index], text[index - 1]
    return not (
        after in _JOINERS
        or before in _JOINERS
        or unicodedata.combining(after)
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tone modifiers
    )


def split(text: str, first: int, rest: int | None = None) -> list[str]:
    """Plain `text` cut into parts of at most `first` UTF-16 code units (the first
    part) and `rest` (each later one; default `first`), all of it kept: joined, the
    parts are `text` again. A part ends after the last whitespace in its second half
    when there is one; a cut never splits a surrogate pair or an emoji sequence.

    Raises ValueError for a limit below 2 units (one astral character must fit)."""
    rest = first if rest is None else rest
    if min(first, rest) < 2:
        raise ValueError("a part must hold at least 2 UTF-16 code units")
    parts: list[str] = []
    start, limit = 0, first
    while telegram_length(text[start:]) > limit:
        end, used = start, 0
        while end < len(text) and used + telegram_length(text[end]) <= limit:
            used += telegram_length(text[end])
            end += 1
        cut = end
        while cut > start + 1 and not _breakable(text, cut):
            cut -= 1
        if cut == start + 1 and not _breakable(text, cut):
            cut = end  # one unbreakable run longer than a part: cut it anyway
        space = max(text.rfind(c, start, cut) for c in " \n\t")
        if space >= start + (cut - start) // 2:
            cut = space + 1
        parts.append(text[start:cut])
        start, limit = cut, rest
    parts.append(text[start:])
    return parts
