"""A refused operator file (`FileRefused`) in the reader's language: one translated line
per problem (texts/*/stock_files.yaml), never the exception's English text, never the
file's content (stock items are secrets)."""

from typing import Final

from shopbot.bot.telegram_text import MESSAGE_LIMIT, fits
from shopbot.bot.texts import Raw, Texts
from shopbot.domain.file_problems import FileRefused

MAX_SHOWN: Final = 20
"""Problems listed in one message; the rest are counted ("… and N more")."""


def file_refusal_text(t: Texts, error: FileRefused, frame: str, limit: int = MESSAGE_LIMIT) -> str:
    """The message for `error`: text key `frame` (a template with a `{reason}`
    parameter, e.g. "admin.stock.refused") filled with one line per problem, at most
    MAX_SHOWN, then "… and N more" for the rest of `error.total`. Fewer lines are
    listed if needed so the message fits `limit` UTF-16 units after HTML parsing
    (Bot API sendMessage: 4096). Raises nothing."""
    lines = [t(f"stock_file.{problem.code}", **problem.params) for problem in error.problems]
    shown = min(len(lines), MAX_SHOWN)
    while True:
        more = error.total - shown
        listed = lines[:shown] + ([t("stock_file.more", count=more)] if more > 0 else [])
        text = t(frame, reason=Raw("\n".join(listed)))
        if shown == 0 or fits(text, limit):
            return text
        shown -= 1
