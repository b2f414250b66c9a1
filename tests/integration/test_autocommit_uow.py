"""The autocommit unit of work (`UnitOfWorkFactory.autocommit`): single statements commit
on their own, money cannot move through it, and the connection it used goes back to the
pool transactional again."""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shopbot.domain.ledger import user_account
from shopbot.domain.ledger.accounts import SystemAccount
from shopbot.domain.ledger.transactions import Entry, LedgerTransaction, TransactionKind
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory

PID = text("SELECT pg_backend_pid()")
USER = 616_000_000 + uuid.uuid4().int % 1_000_000


@pytest.fixture
async def one_connection(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """One pooled connection: every unit of work below gets the same one."""
    engine = create_engine(pg_url, pool_size=1)
    yield engine
    await engine.dispose()


async def test_money_cannot_move_through_autocommit(pg_uow: UnitOfWorkFactory) -> None:
    transaction = LedgerTransaction(
        idempotency_key=f"test:autocommit:{USER}",
        kind=TransactionKind.ADJUSTMENT,
        entries=(
            Entry(user_account(USER), Decimal("5.00")),
            Entry(SystemAccount.ADJUSTMENTS.value, Decimal("-5.00")),
        ),
        memo="test",
        actor="test",
    )
    async with pg_uow.autocommit() as uow:
        with pytest.raises(RuntimeError, match="need a transaction"):
            await uow.ledger.post(transaction)
        with pytest.raises(RuntimeError, match="nothing to roll back"):
            await uow.rollback()


async def test_a_connection_back_from_autocommit_is_transactional(
    one_connection: AsyncEngine,
) -> None:
    uows = UnitOfWorkFactory(create_session_factory(one_connection))
    async with uows.autocommit() as auto:
        await auto.users.register(USER, username="a", language="en")  # committed at once
        auto_pid = (await auto.session.execute(PID)).scalar()
    async with uows() as uow:
        pid = (await uow.session.execute(PID)).scalar()
        await uow.users.set_language(USER, "ru")
        await uow.rollback()  # in a transaction again: this undoes the change
    async with uows() as uow:
        stored = await uow.users.get(USER)

    assert pid == auto_pid
    assert stored is not None
    assert stored.language == "en"
