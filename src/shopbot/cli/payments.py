import getpass
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import click

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.cli.params import ID
from shopbot.cli.runtime import database, load_settings, run_async
from shopbot.composition.policies import telegram_configured, topup_policy
from shopbot.domain import idempotency_keys
from shopbot.domain.ledger import cli_actor
from shopbot.domain.payments.models import TopupInvoice
from shopbot.domain.payments.reconcile import reconcile
from shopbot.domain.payments.refunds import request_refund
from shopbot.domain.payments.topups import create_topup


def invoice_json(invoice: TopupInvoice) -> str:
    return json.dumps(
        {
            "uuid": invoice.uuid,
            "order_id": invoice.order_id,
            "url": invoice.url,
            "expires_at": invoice.expires_at.isoformat() if invoice.expires_at else None,
            "amount": str(invoice.amount),
            "currency": invoice.currency,
            "state": invoice.state.value,
            "status": invoice.gateway_status,
        },
        indent=2,
    )


@click.group()
def topup() -> None:
    """Balance top-ups through Heleket."""


@topup.command("create")
@click.option("--user-id", type=ID, required=True)
@click.option("--amount", required=True, help="in SHOP_CURRENCY, at most two decimals")
@click.option(
    "--request-key",
    help="repeat-safe key: the same top-up again prints its invoice; another is refused",
)
@run_async
async def create(user_id: int, amount: str, request_key: str | None) -> None:
    """Create a Heleket invoice for a user and print it as JSON."""
    settings = load_settings()
    policy = topup_policy(settings)
    async with HeleketClient.from_settings(settings) as gateway, database(settings) as uows:
        invoice = await create_topup(
            uows,
            gateway,
            policy,
            user_id=user_id,
            amount=amount,
            request_key=request_key or idempotency_keys.cli_topup_request(str(uuid.uuid4())),
        )
    click.echo(invoice_json(invoice))


@click.group()
def payments() -> None:
    """Heleket payments: reconciliation and refunds."""


@payments.command("reconcile")
@click.option(
    "--older-than",
    default=300,
    show_default=True,
    type=click.IntRange(0, 10**9),
    help="seconds since creation",
)
@run_async
async def reconcile_command(older_than: int) -> None:
    """Ask Heleket about open invoices and apply final statuses (a lost webhook loses nothing)."""
    settings = load_settings()
    if not telegram_configured(settings):
        click.echo(
            "shopbot: warning: TELEGRAM_TOKEN is not set: customers are not told about "
            "payments found, and purchases waiting for those top-ups are not completed "
            "(the money stays on their balances)",
            err=True,
        )
    # Imported here, not at the top: the notifier loads aiogram, which the other payment
    # commands (`shopbot topup create`) should not wait for.
    from shopbot.composition.notices import open_telegram_notifier

    async with AsyncExitStack() as stack:
        gateway = await stack.enter_async_context(HeleketClient.from_settings(settings))
        uows = await stack.enter_async_context(database(settings))
        report = await reconcile(
            uows,
            gateway,
            now=datetime.now(UTC),
            older_than=timedelta(seconds=older_than),
            on_applied=open_telegram_notifier(stack, settings, uows),
        )
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(report.outcomes.items()))
    click.echo(
        f"checked {report.checked} invoices: {outcomes or 'nothing to do'}; errors {report.errors}"
    )
    if report.errors:
        raise SystemExit(1)


@payments.command("refund")
@click.argument("order_id")
@click.option("--address", required=True, help="the payer's wallet address")
@click.option("--amount", help="partial refund in SHOP_CURRENCY (default: all credited)")
@run_async
async def refund_command(order_id: str, address: str, amount: str | None) -> None:
    """Refund a credited top-up to the payer's wallet (signed with HELEKET_PAYOUT_KEY)."""
    settings = load_settings()
    async with HeleketClient.from_settings(settings) as gateway, database(settings) as uows:
        invoice = await request_refund(
            uows,
            gateway,
            order_id=order_id,
            address=address,
            amount=amount,
            actor=cli_actor(getpass.getuser()),
        )
    click.echo(
        f"refund of {invoice.refund_amount} {invoice.currency} for {order_id} requested; "
        "the balance is held until Heleket confirms it"
    )
