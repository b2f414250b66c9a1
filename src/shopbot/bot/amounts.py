"""Why a typed amount was refused, in the reader's language."""

from shopbot.bot.texts import Texts
from shopbot.domain.errors import InvalidAmount
from shopbot.domain.money import shorten_typed


def amount_refusal(t: Texts, refusal: InvalidAmount, typed: str) -> str:
    """The translated `amount.<code>` text for `refusal` (see InvalidAmount.code), quoting
    what was `typed` (HTML-escaped by Texts, cut by `shorten_typed`)."""
    return t(f"amount.{refusal.code}", text=shorten_typed(typed.strip()))
