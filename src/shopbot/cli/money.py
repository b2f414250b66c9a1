import getpass
import uuid

import click

from shopbot.cli.params import ID
from shopbot.cli.runtime import database, load_settings, run_async
from shopbot.domain import idempotency_keys
from shopbot.domain.errors import InvalidAmount
from shopbot.domain.ledger import cli_actor, user_account
from shopbot.domain.ledger.use_cases import adjust_balance
from shopbot.domain.money import parse_amount


@click.group()
def balance() -> None:
    """User balances."""


# ignore_unknown_options lets "-5" reach AMOUNT, so it gets the helpful message below.
@balance.command(context_settings={"ignore_unknown_options": True})
@click.argument("user_id", type=ID)
@click.argument("amount")
@click.option("--reason", required=True, help="why; stored with the ledger posting")
@click.option("--debit", is_flag=True, help="take AMOUNT from the balance instead of adding it")
@click.option(
    "--idempotency-key",
    help="repeat-safe key: the same adjustment again changes nothing; another is refused",
)
@run_async
async def adjust(
    user_id: int, amount: str, reason: str, debit: bool, idempotency_key: str | None
) -> None:
    """Add AMOUNT to a user's balance (or take it with --debit), as an audited posting."""
    value = parse_amount(amount)
    if value <= 0:
        raise InvalidAmount(
            f"AMOUNT must be positive, got {amount!r}; use --debit to take money from a balance"
        )
    settings = load_settings()
    key = idempotency_keys.cli_adjustment(idempotency_key or str(uuid.uuid4()))
    async with database(settings) as uow_factory, uow_factory() as uow:
        result = await adjust_balance(
            uow,
            user_id=user_id,
            amount=value,
            debit=debit,
            reason=reason,
            actor=cli_actor(getpass.getuser()),
            idempotency_key=key,
        )
        await uow.commit()
        now = await uow.ledger.balance(user_account(user_id))
    verb = "took" if debit else "added"
    note = "" if result.created else " (already applied earlier under this key; nothing changed)"
    click.echo(
        f"{verb} {value} {settings.shop_currency}; balance of {user_id} is {now} "
        f"{settings.shop_currency}; posting #{result.transaction_id}{note}"
    )


@click.group()
def ledger() -> None:
    """The double-entry ledger."""


@ledger.command()
@run_async
async def verify() -> None:
    """Check that postings sum to zero and stored balances equal their postings."""
    async with database(load_settings()) as uow_factory, uow_factory() as uow:
        report = await uow.ledger.verify()
    click.echo(
        f"accounts {report.accounts}, transactions {report.transactions}, "
        f"entries {report.entries}, sum of all entries {report.total}"
    )
    for key in report.unbalanced_transactions:
        click.echo(f"UNBALANCED transaction {key}")
    for mismatch in report.mismatched_balances:
        click.echo(
            f"MISMATCH account {mismatch.account}: stored {mismatch.stored}, "
            f"postings {mismatch.from_entries}"
        )
    for account in report.negative_user_balances:
        click.echo(f"NEGATIVE user balance {account}")
    if not report.sound:
        click.echo("ledger is NOT sound")
        raise SystemExit(1)
    click.echo("ledger is sound")
