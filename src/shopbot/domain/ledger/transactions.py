"""A ledger transaction: a balanced set of entries, applied at most once per idempotency key."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shopbot.domain.errors import UnbalancedTransaction
from shopbot.domain.ledger.accounts import AccountKind, account_kind
from shopbot.domain.money import parse_amount, parse_positive_amount

MAX_KEY_LENGTH = 200


class TransactionKind(StrEnum):
    TOPUP = "topup"
    PURCHASE = "purchase"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    PROVIDER_REFUND = "provider_refund"


@dataclass(frozen=True, slots=True)
class Entry:
    account: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    idempotency_key: str
    kind: TransactionKind
    entries: tuple[Entry, ...]
    memo: str = ""
    actor: str = "system"

    def __post_init__(self) -> None:
        if not 0 < len(self.idempotency_key) <= MAX_KEY_LENGTH:
            raise UnbalancedTransaction(f"idempotency key must be 1..{MAX_KEY_LENGTH} characters")
        if len(self.entries) < 2:
            raise UnbalancedTransaction("a transaction needs at least two entries")
        accounts = [entry.account for entry in self.entries]
        if len(set(accounts)) != len(accounts):
            raise UnbalancedTransaction("an account may appear only once in a transaction")
        for entry in self.entries:
            if parse_amount(entry.amount) == 0:
                raise UnbalancedTransaction("entries must move a non-zero amount")
        if sum((entry.amount for entry in self.entries), Decimal(0)) != 0:
            raise UnbalancedTransaction("entries of a transaction must sum to zero")

    def in_lock_order(self) -> tuple[Entry, ...]:
        """Entries in the one global order every transaction locks accounts in.

        User accounts come first and the shared system accounts last, so the hot system
        rows are held for the shortest time and no two transactions can deadlock.
        """
        return tuple(
            sorted(
                self.entries,
                key=lambda e: (account_kind(e.account) is not AccountKind.USER, e.account),
            )
        )


def transfer(
    idempotency_key: str,
    kind: TransactionKind,
    *,
    source: str,
    destination: str,
    amount: Decimal,
    memo: str = "",
    actor: str = "system",
) -> LedgerTransaction:
    value = parse_positive_amount(amount)
    return LedgerTransaction(
        idempotency_key=idempotency_key,
        kind=kind,
        entries=(Entry(source, -value), Entry(destination, value)),
        memo=memo,
        actor=actor,
    )
