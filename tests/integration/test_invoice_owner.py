"""What a payment notice reads about an invoice's owner, in one statement, on PostgreSQL."""

from decimal import Decimal

from shopbot.domain.ledger import user_account
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user


async def new_invoice(uows: UnitOfWorkFactory, user_id: int) -> int:
    async with uows() as uow:
        invoice = await uow.topups.create(
            user_id=user_id,
            order_id=f"topup-{user_id}",
            request_key=f"key-{user_id}",
            amount=Decimal("10.00"),
            currency="USD",
        )
        await uow.commit()
    assert invoice is not None
    return invoice.id


async def test_a_user_who_never_had_money_reads_a_zero_balance_and_nothing_shown(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 41)
    invoice_id = await new_invoice(pg_uow, 41)

    async with pg_uow.autocommit() as uow:
        owner = await uow.topups.owner(invoice_id, user_account(41))

    assert owner is not None
    assert (owner.user.id, owner.user.username, owner.user.language) == (41, "user41", "en")
    assert (owner.balance, owner.then_buy_product_id, owner.shown_message) == (
        Decimal("0.00"),
        None,
        None,
    )


async def test_the_balance_and_the_shown_message_are_the_owners(
    pg_uow: UnitOfWorkFactory,
) -> None:
    await add_user(pg_uow, 42, balance="12.50")
    await add_user(pg_uow, 43, balance="99.00")  # another user's money is not read
    invoice_id = await new_invoice(pg_uow, 42)
    async with pg_uow() as uow:
        await uow.topups.set_shown_message(invoice_id, chat_id=42, message_id=777)
        await uow.commit()

    async with pg_uow.autocommit() as uow:
        owner = await uow.topups.owner(invoice_id, user_account(42))
        missing = await uow.topups.owner(invoice_id + 1000, user_account(42))
        taken = await uow.topups.forget_shown_message(invoice_id, (42, 777))
        again = await uow.topups.forget_shown_message(invoice_id, (42, 777))
        after = await uow.topups.owner(invoice_id, user_account(42))

    assert owner is not None
    assert after is not None
    assert (owner.balance, owner.shown_message) == (Decimal("12.50"), (42, 777))
    assert missing is None
    assert (taken, again, after.shown_message) == (True, False, None)
