"""Ledger accounts, named by a stable code.

Sign convention: an account's balance is the sum of its entries, and all entries of the
ledger sum to zero. A user's balance is what the shop owes the user, so it is positive
and may never go below zero (a database CHECK enforces it). The system accounts carry
the other side: a top-up moves money from a provider clearing account (which goes
negative: money that came in from outside) to the user; a purchase moves it from the
user to revenue; a refund moves it from the refunds account back to the user.
"""

from enum import StrEnum

USER_PREFIX = "user:"


class SystemAccount(StrEnum):
    HELEKET = "provider:heleket"
    HELEKET_REFUNDS = "provider:heleket-refunds"
    """Balances held for crypto refunds that Heleket has not confirmed yet."""
    STARS = "provider:stars"
    REVENUE = "revenue"
    REFUNDS = "refunds"
    ADJUSTMENTS = "adjustments"


class AccountKind(StrEnum):
    USER = "user"
    PROVIDER = "provider"
    REVENUE = "revenue"
    REFUNDS = "refunds"
    ADJUSTMENTS = "adjustments"


def user_account(user_id: int) -> str:
    return f"{USER_PREFIX}{user_id}"


def user_id_of(code: str) -> int | None:
    if code.startswith(USER_PREFIX):
        return int(code.removeprefix(USER_PREFIX))
    return None


def account_kind(code: str) -> AccountKind:
    if code.startswith(USER_PREFIX):
        return AccountKind.USER
    if code.startswith("provider:"):
        return AccountKind.PROVIDER
    return AccountKind(code)
