from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shopbot.domain.ledger.transactions import LedgerTransaction
from shopbot.domain.ledger.verification import LedgerReport


@dataclass(frozen=True, slots=True)
class PostedTransaction:
    transaction_id: int
    created: bool
    """False when the idempotency key was already used: the transaction was a no-op."""


@dataclass(frozen=True, slots=True)
class HistoryLine:
    transaction_id: int
    kind: str
    amount: Decimal
    memo: str
    created_at: str


@dataclass(frozen=True, slots=True)
class AccountStatement:
    """An account's balance and its latest lines, read together: the lines are the
    postings that made the balance, up to the limit asked for."""

    balance: Decimal
    lines: list[HistoryLine]


class LedgerRepository(Protocol):
    async def post(self, transaction: LedgerTransaction) -> PostedTransaction:
        """Apply the transaction once. Raises InsufficientFunds if a user balance would go
        negative; the caller's transaction must then be rolled back."""
        ...

    async def balance(self, account: str) -> Decimal: ...

    async def statement(self, account: str, limit: int) -> AccountStatement:
        """The balance (0.00 for an account with no postings yet) and up to `limit` of
        its postings, newest first, in one statement, so they agree."""
        ...

    async def verify(self) -> LedgerReport: ...
