"""The bot with DATABASE_REPLICA_URLS on a real streaming standby: browsing is served by
the replica, the balance screen (the balance and the lines that made it) by the primary
even while the replica trails it, and with the replica stopped the customer browses on
as before (the primary serves)."""

import asyncio
import html
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from shopbot.bot.texts import Texts
from shopbot.domain.ledger import SystemAccount
from shopbot.domain.ledger.use_cases import credit_topup
from shopbot.persistence.engine import create_engine, create_session_factory
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_product
from tests.e2e.bot_stack import bot_stack
from tests.replication import (
    Replication,
    pause_replay,
    replayed,
    resume_replay,
    running_replication,
)

pytestmark = pytest.mark.subprocess  # starts two PostgreSQL servers

EN = Texts("en")
ALICE = 1001


def plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z]+[^>]*>", "", text))


async def credit(uows: UnitOfWorkFactory, user_id: int, amount: str) -> None:
    async with uows() as uow:
        await credit_topup(
            uow,
            user_id=user_id,
            amount=Decimal(amount),
            provider=SystemAccount.HELEKET,
            idempotency_key=f"e2e:{uuid.uuid4()}",
            memo="e2e top-up",
        )
        await uow.commit()


def served(target: str) -> float:
    return REGISTRY.get_sample_value("shopbot_db_reads_total", {"target": target}) or 0.0


@pytest.fixture
async def replication() -> AsyncIterator[Replication]:
    async with running_replication() as replication:
        engine = create_engine(replication.primary.url)
        try:
            await add_product(
                UnitOfWorkFactory(create_session_factory(engine)), "key-1", stock=["K1"]
            )
        finally:
            await engine.dispose()
        await replayed(replication)
        yield replication


async def test_browsing_on_the_replica_balance_on_the_primary(replication: Replication) -> None:
    standby = replication.standby
    async with bot_stack(
        replication.primary.url,
        database_replica_urls=standby.url,
        database_replica_max_lag_seconds="3600",  # trailing by a paused replay still serves
    ) as stack:
        alice = stack.user(ALICE, "Alice", language="en")
        await alice.send("/start")
        on_replica, on_primary = served("replica-1"), served("primary")
        await alice.press(EN("menu.catalog"))
        await alice.press(EN("catalog.other"))
        listed = alice.buttons()
        browsed_on_replica = served("replica-1") - on_replica
        lag = REGISTRY.get_sample_value("shopbot_db_replica_lag_seconds", {"replica": "replica-1"})

        await pause_replay(standby)
        try:
            await credit(stack.uows, ALICE, "25.00")
            await alice.press(EN("common.back"))
            await alice.press(EN("common.menu"))
            await alice.press(EN("menu.balance"))
            balance_screen = plain(alice.last_text())
        finally:
            await resume_replay(standby)

        await asyncio.to_thread(standby.stop)
        before_stop = served("primary")
        await alice.press(EN("common.menu"))
        await alice.press(EN("menu.catalog"))
        await alice.press(EN("catalog.other"))
        listed_without_replica = alice.buttons()

    assert browsed_on_replica == 2  # the categories, then the product list
    assert lag is not None
    assert 0 <= lag < 3600
    assert served("primary") - on_primary >= 2  # after the stop
    assert any("Product key-1" in label for label in listed)
    assert plain(EN("balance.text", balance="25.00", currency="USD")) in balance_screen
    # The top-up's line too, which the paused replica has not replayed: read beside the
    # balance, on the primary.
    assert "+25.00 USD · top-up" in balance_screen
    assert served("primary") - before_stop == 2
    assert listed_without_replica == listed
