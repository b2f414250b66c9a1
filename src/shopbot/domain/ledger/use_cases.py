"""Ledger transactions that do not belong to an order: provider top-ups and adjustments."""

from decimal import Decimal

from shopbot.domain.errors import InvalidInput, UserNotFound
from shopbot.domain.ledger.accounts import SystemAccount, user_account
from shopbot.domain.ledger.ports import PostedTransaction
from shopbot.domain.ledger.transactions import TransactionKind, transfer
from shopbot.domain.uow import UnitOfWork


async def credit_topup(
    uow: UnitOfWork,
    *,
    user_id: int,
    amount: Decimal,
    provider: SystemAccount,
    idempotency_key: str,
    memo: str,
) -> PostedTransaction:
    """Credit money that arrived through a payment provider. A repeated key is a no-op.

    Runs inside the caller's unit of work; does not commit.
    """
    if await uow.users.get(user_id) is None:
        raise UserNotFound(user_id)
    return await uow.ledger.post(
        transfer(
            idempotency_key,
            TransactionKind.TOPUP,
            source=provider,
            destination=user_account(user_id),
            amount=amount,
            memo=memo,
        )
    )


async def adjust_balance(
    uow: UnitOfWork,
    *,
    user_id: int,
    amount: Decimal,
    debit: bool,
    reason: str,
    actor: str,
    idempotency_key: str,
) -> PostedTransaction:
    """An audited manual correction: `reason` and `actor` are stored with the posting.

    Runs inside the caller's unit of work; does not commit.
    """
    if not reason.strip():
        raise InvalidInput("a reason is required")
    if await uow.users.get(user_id) is None:
        raise UserNotFound(user_id)
    account = user_account(user_id)
    source, destination = (
        (account, SystemAccount.ADJUSTMENTS) if debit else (SystemAccount.ADJUSTMENTS, account)
    )
    return await uow.ledger.post(
        transfer(
            idempotency_key,
            TransactionKind.ADJUSTMENT,
            source=source,
            destination=destination,
            amount=amount,
            memo=reason.strip(),
            actor=actor,
        )
    )
