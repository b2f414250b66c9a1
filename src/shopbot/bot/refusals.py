"""What a refused operation says to the person who asked: a translated text naming what
is wrong and how to fix it, never the exception's own (English, developer-facing) text
such as a regex or `Decimal('9.999')` (issue 9). The refusal is logged as it is.
"""

import logging
from typing import Any

from shopbot.bot.texts import Raw, Texts
from shopbot.domain.catalog.drafts import DraftRefused
from shopbot.domain.errors import (
    DomainError,
    InsufficientFunds,
    InvalidAmount,
    OrderNotFound,
    OrderStateError,
    OutOfStock,
    ProductNotFound,
    ProductUnavailable,
    UserBlocked,
    UserNotFound,
)

log = logging.getLogger(__name__)

KEYS: tuple[tuple[type[DomainError], str], ...] = (
    (InvalidAmount, "refusal.amount"),
    (InsufficientFunds, "refusal.insufficient"),
    (OrderNotFound, "refusal.order_missing"),
    (OrderStateError, "refusal.order_state"),
    (UserNotFound, "refusal.user_missing"),
    (UserBlocked, "refusal.user_blocked"),
    (ProductNotFound, "refusal.product_missing"),
    (ProductUnavailable, "refusal.product_unavailable"),
    (OutOfStock, "refusal.out_of_stock"),
)
"""Domain errors by their type (subclasses first), each with its text key."""


class Refused(DomainError):
    """A refusal the bot words itself: `key` names a text in texts/*/refusals.yaml and
    `params` fill it (escaped by Texts like every parameter)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def refusal_text(t: Texts, error: DomainError) -> Raw:
    """`error` as a translated sentence (safe HTML, ready as a text parameter) for the
    person whose input or action was refused; an error type without its own text gets
    "refusal.other" (nothing changed, check the input). Raises nothing."""
    if isinstance(error, Refused):
        return Raw(t(error.key, **error.params))
    if isinstance(error, DraftRefused):
        return Raw(t(f"refusal.{error.reason}", **error.params))
    log.info("refused: %s", error)
    key = next((key for kind, key in KEYS if isinstance(error, kind)), "refusal.other")
    return Raw(t(key))
