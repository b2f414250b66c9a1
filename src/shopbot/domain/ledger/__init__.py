"""Double-entry ledger: every money movement is a balanced set of entries under one key."""

from shopbot.domain.ledger.accounts import SystemAccount, account_kind, user_account
from shopbot.domain.ledger.actors import SYSTEM_ACTOR, admin_actor, cli_actor
from shopbot.domain.ledger.movements import Entry, Movement, MovementKind, transfer
from shopbot.domain.ledger.ports import LedgerRepository, PostingResult
from shopbot.domain.ledger.verification import LedgerReport

__all__ = [
    "SYSTEM_ACTOR",
    "Entry",
    "LedgerReport",
    "LedgerRepository",
    "Movement",
    "MovementKind",
    "PostingResult",
    "SystemAccount",
    "account_kind",
    "admin_actor",
    "cli_actor",
    "transfer",
    "user_account",
]
