"""One unit of work per update (issue 10, item 3): what a handler wrote is committed when
it returns, rolled back when it fails, and a failure that is answered (a refusal) leaves
nothing either. A probe router goes in front of the shop's routers of the real aiogram
bot; Telegram (the emulator) refuses the probe's answer with a 502 once, in webhook mode,
so Telegram redelivers the update."""

import uuid
from decimal import Decimal

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from shopbot.bot.texts import Texts
from shopbot.domain.errors import InvalidInput
from shopbot.domain.ledger import SYSTEM_ACTOR, user_account
from shopbot.domain.ledger.use_cases import adjust_balance
from shopbot.domain.uow import UnitOfWork
from shopbot.domain.users import User
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.e2e.bot_stack import BotStack, bot_stack

ALICE = 1001
EN = Texts("en")
ONE = Decimal("1.00")


def probe_router(seen: list[Decimal]) -> Router:
    """`/credit_probe` credits 1.00 under a fresh key (no idempotency to hide a second
    credit) and then answers; `/refused_probe` credits and then breaks a shop rule.
    `seen` gets the balance each run found before it wrote."""

    async def credit(uow: UnitOfWork, user: User) -> None:
        seen.append(await uow.ledger.balance(user_account(user.id)))
        await adjust_balance(
            uow,
            user_id=user.id,
            amount=ONE,
            debit=False,
            reason="unit-of-work probe",
            actor=SYSTEM_ACTOR,
            idempotency_key=f"probe:{uuid.uuid4()}",
        )

    async def credit_then_answer(message: Message, uow: UnitOfWork, user: User) -> None:
        await credit(uow, user)
        await message.answer("probe credited")

    async def credit_then_refuse(message: Message, uow: UnitOfWork, user: User) -> None:
        await credit(uow, user)
        raise InvalidInput("the probe breaks a rule after writing")

    router = Router(name="probe")
    router.message.register(credit_then_answer, Command("credit_probe"))
    router.message.register(credit_then_refuse, Command("refused_probe"))
    return router


def put_first(stack: BotStack, router: Router) -> None:
    stack.dispatcher.include_router(router)
    stack.dispatcher.sub_routers.remove(router)
    stack.dispatcher.sub_routers.insert(0, router)


async def balance(uows: UnitOfWorkFactory) -> Decimal:
    async with uows() as uow:
        return await uow.ledger.balance(user_account(ALICE))


async def test_a_failed_update_is_rolled_back_and_its_redelivery_applies_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    seen: list[Decimal] = []
    async with bot_stack(pg_url, mode="webhook") as stack:
        put_first(stack, probe_router(seen))
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        stack.emulator.faults.inject("sendMessage", 502, "Bad Gateway", chat_id=ALICE)
        await alice.send("/credit_probe")

        update_id = stack.emulator.bot().next_update_id - 1
        attempts = [d for d in stack.emulator.deliveries() if d["update_id"] == update_id]
        assert [(d["attempt"], d["ok"]) for d in attempts] == [(1, False), (2, True)]
        # The redelivery found nothing of the failed run, and credited once.
        assert seen == [Decimal("0.00"), Decimal("0.00")]
        assert await balance(pg_uow) == ONE
        assert alice.last_text() == "probe credited"


async def test_a_refused_update_is_answered_and_leaves_nothing(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    seen: list[Decimal] = []
    async with bot_stack(pg_url, mode="webhook") as stack:
        put_first(stack, probe_router(seen))
        alice = stack.user(ALICE, "Alice")
        await alice.send("/start")
        await alice.send("/refused_probe")

        assert alice.last_text() == EN("error.refused")
        assert all(d["ok"] for d in stack.emulator.deliveries())  # answered, not redelivered
        assert seen == [Decimal("0.00")]
        assert await balance(pg_uow) == Decimal("0.00")
