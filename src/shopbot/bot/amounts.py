"""Why a typed amount was refused, in the reader's language."""

from shopbot.bot.texts import Texts
from shopbot.domain.errors import InvalidAmount

# Longer input is cut in the reply: the message must stay within Telegram's 4096
# characters, and nobody needs a pasted essay echoed back.
_ECHO = 40


def amount_refusal(t: Texts, refusal: InvalidAmount, typed: str) -> str:
    """The translated `amount.<code>` text for `refusal` (see InvalidAmount.code), quoting
    what was `typed` (HTML-escaped by Texts, cut to 40 characters)."""
    text = typed.strip()
    if len(text) > _ECHO:
        text = text[: _ECHO - 1] + "…"
    return t(f"amount.{refusal.code}", text=text)
