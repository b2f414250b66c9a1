import click

from shopbot.cli.params import ID
from shopbot.cli.runtime import database, load_settings, run_async
from shopbot.domain.errors import UserNotFound
from shopbot.domain.ledger import user_account


@click.group()
def users() -> None:
    """Customers."""


@users.command()
@click.argument("user_id", type=ID)
@click.option(
    "--history",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="ledger lines and orders to show",
)
@run_async
async def show(user_id: int, history: int) -> None:
    """Show a user with balance, recent ledger lines and orders."""
    settings = load_settings()
    currency = settings.shop_currency
    async with database(settings) as uow_factory, uow_factory() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        statement = await uow.ledger.statement(user_account(user_id), history)
        balance, lines = statement.balance, statement.lines
        orders = await uow.orders.list_for_user(user_id, history)
    click.echo(f"user      {user.id}  @{user.username or '-'}  language={user.language}")
    click.echo(f"status    {'BLOCKED' if user.is_blocked else 'active'}")
    click.echo(f"referrer  {user.referrer_id or '-'}")
    click.echo(f"joined    {user.created_at.isoformat(timespec='seconds')}")
    click.echo(f"balance   {balance} {currency}")
    click.echo("ledger:" if lines else "ledger:   (empty)")
    for line in lines:
        click.echo(
            f"  #{line.transaction_id:<6} {line.created_at}  {line.kind:<11} "
            f"{line.amount:>+12} {currency}  {line.memo}"
        )
    click.echo("orders:" if orders else "orders:   (none)")
    for order in orders:
        click.echo(
            f"  #{order.id:<6} {order.created_at.isoformat(timespec='seconds')}  "
            f"{order.sku:<24} {order.price:>10} {currency}  {order.status}"
        )
