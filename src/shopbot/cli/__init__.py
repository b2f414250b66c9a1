"""The `shopbot` command."""

import sys

import click
from pydantic import ValidationError

from shopbot.cli.bot import bot
from shopbot.cli.catalog import catalog, stock
from shopbot.cli.config import config
from shopbot.cli.db import db
from shopbot.cli.demo import demo
from shopbot.cli.heleket import heleket
from shopbot.cli.money import balance, ledger
from shopbot.cli.payments import payments, topup
from shopbot.cli.users import users
from shopbot.cli.webhook import webhook
from shopbot.config import MissingSecret
from shopbot.domain.errors import DomainError

EXIT_FAILURE = 1
EXIT_CONFIG = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shopbot")
def cli() -> None:
    """shopbot: a Telegram shop for digital goods."""


for command in (
    bot,
    db,
    catalog,
    stock,
    users,
    balance,
    ledger,
    config,
    topup,
    payments,
    webhook,
    heleket,
    demo,
):
    cli.add_command(command)


def _settings_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
    return f"shopbot: invalid setting {variable}: {first['msg']}"


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MissingSecret as exc:
        click.echo(f"shopbot: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except ValidationError as exc:
        click.echo(_settings_error(exc), err=True)
        sys.exit(EXIT_CONFIG)
    except DomainError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
