"""The drills' shop data, written through the shop's own use cases in a one-off container
of the image (configured like `migrate`): the load's customers registered with a balance
(an audited adjustment each, as `shopbot balance adjust` makes it), the broadcast's
audience registered, and the broadcast itself created RUNNING, as the admin's Send button
does (`BroadcastRepository.create`). The admin screens that lead there are tested in
tests/e2e; the drill is about what happens after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from tests.docker.live.stack import LiveStack

SEED = """
import asyncio, json, sys
from datetime import UTC, datetime
from decimal import Decimal
from sqlalchemy import func, select
from shopbot.cli.runtime import database, load_settings
from shopbot.domain.broadcasts.models import BroadcastContent, ContentKind
from shopbot.domain.ledger.actors import cli_actor
from shopbot.domain.ledger.use_cases import adjust_balance
from shopbot.persistence.models import UserRow

plan = json.loads(sys.argv[1])

async def main():
    async with database(load_settings()) as uows:
        async with uows() as uow:
            for user_id in plan["customers"]:
                await uow.users.register(user_id, username=None, language="en")
                await adjust_balance(
                    uow, user_id=user_id, amount=Decimal(plan["balance"]), debit=False,
                    reason="failure drill seed", actor=cli_actor("drill"),
                    idempotency_key=f"adjust:drill-seed-{user_id}",
                )
            await uow.users.register(plan["admin"], username="drill_admin", language="en")
            await uow.commit()
        # the audience tops the shop's users up to exactly plan["audience"]
        async with uows() as uow:
            known = await uow.session.scalar(select(func.count(UserRow.id)))
            await uow.commit()
        extra = plan["audience"] - known
        for start in range(0, extra, 1000):
            async with uows() as uow:
                for n in range(start, min(start + 1000, extra)):
                    await uow.users.register(plan["first_extra"] + n, username=None, language="en")
                await uow.commit()
        async with uows() as uow:
            content = BroadcastContent(ContentKind.TEXT, plan["text"])
            made = await uow.broadcasts.create(
                request_key="drill-13", created_by=plan["admin"], content=content,
                at=datetime.now(UTC),
            )
            await uow.commit()
        print(json.dumps({"extra": extra, "broadcast": made.id, "total": made.total}))

asyncio.run(main())
"""


@dataclass(frozen=True)
class Seeded:
    extra: int
    """Audience users registered besides the customers and the admin."""
    broadcast_id: int
    total: int
    """Recipients in the broadcast's snapshot."""


def seed_customers_and_broadcast(
    stack: LiveStack,
    *,
    customers: list[int],
    balance: Decimal,
    admin: int,
    audience: int,
    first_extra: int,
    text: str,
) -> Seeded:
    """Registers `customers` with `balance` each, `admin`, then audience users from
    `first_extra` up until the shop has `audience` users, and creates the broadcast of
    `text` to all of them (RUNNING: the worker takes it up within its poll)."""
    plan = {
        "customers": customers,
        "balance": str(balance),
        "admin": admin,
        "audience": audience,
        "first_extra": first_extra,
        "text": text,
    }
    done = stack.compose(
        "run", "--rm", "--no-deps", "-T", "--entrypoint", "python", "migrate",
        "-c", SEED, json.dumps(plan), timeout=300,
    )  # fmt: skip
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return Seeded(made["extra"], made["broadcast"], made["total"])
