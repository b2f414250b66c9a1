from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    account: str
    stored: Decimal
    from_entries: Decimal


@dataclass(frozen=True, slots=True)
class LedgerReport:
    accounts: int
    transactions: int
    entries: int
    total: Decimal
    """Sum of all entries; zero in a sound ledger."""
    unbalanced_transactions: list[str] = field(default_factory=list)
    """Idempotency keys of transactions whose entries do not sum to zero."""
    mismatched_balances: list[BalanceMismatch] = field(default_factory=list)
    negative_user_balances: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return (
            self.total == 0
            and not self.unbalanced_transactions
            and not self.mismatched_balances
            and not self.negative_user_balances
        )
