"""Double-entry ledger: every ledger transaction is a balanced set of entries under one key."""

from shopbot.domain.ledger.accounts import SystemAccount, account_kind, user_account
from shopbot.domain.ledger.actors import SYSTEM_ACTOR, admin_actor, cli_actor
from shopbot.domain.ledger.ports import LedgerRepository, PostedTransaction
from shopbot.domain.ledger.transactions import Entry, LedgerTransaction, TransactionKind, transfer
from shopbot.domain.ledger.verification import LedgerReport

__all__ = [
    "SYSTEM_ACTOR",
    "Entry",
    "LedgerReport",
    "LedgerRepository",
    "LedgerTransaction",
    "PostedTransaction",
    "SystemAccount",
    "TransactionKind",
    "account_kind",
    "admin_actor",
    "cli_actor",
    "transfer",
    "user_account",
]
