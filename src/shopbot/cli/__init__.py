"""The `shopbot` command."""

import importlib
import sys

import click
from pydantic import ValidationError

from shopbot.config import Settings, SettingsProblem
from shopbot.config_rules import describe_errors
from shopbot.domain.errors import DomainError
from shopbot.observability.logging import configure_logging
from shopbot.readiness import NotReady

EXIT_FAILURE = 1
EXIT_CONFIG = 2


# Command name -> "module:attribute". Imported on first use: the bot's stack (aiogram,
# FastAPI, ...) takes seconds to import, which `shopbot ledger verify` should not pay.
COMMANDS = {
    "bot": "shopbot.cli.bot:bot",
    "webhook": "shopbot.cli.webhook:webhook",
    "demo": "shopbot.cli.demo:demo",
    "db": "shopbot.cli.db:db",
    "catalog": "shopbot.cli.catalog:catalog",
    "stock": "shopbot.cli.catalog:stock",
    "users": "shopbot.cli.users:users",
    "balance": "shopbot.cli.money:balance",
    "ledger": "shopbot.cli.money:ledger",
    "config": "shopbot.cli.config:config",
    "topup": "shopbot.cli.payments:topup",
    "payments": "shopbot.cli.payments:payments",
    "heleket": "shopbot.cli.heleket:heleket",
    "redis": "shopbot.cli.redis:redis",
}


# Long-running processes: they log at LOG_LEVEL (INFO lines tell what they do).
SERVICES = frozenset({"bot", "webhook"})


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shopbot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """shopbot: a Telegram shop for digital goods."""
    settings = settings_if_valid()
    if ctx.invoked_subcommand in SERVICES:
        configure_logging(settings)
    else:  # a one-shot command's output is its result; its logs only when something is wrong
        debug = settings is not None and settings.log_level == "DEBUG"
        configure_logging(settings, level="DEBUG" if debug else "WARNING")


def settings_if_valid() -> Settings | None:
    """The settings for logging's sake; None when invalid (the command itself loads them
    again and reports every problem, as before)."""
    try:
        return Settings()
    except (ValidationError, SettingsProblem, OSError):
        return None


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SettingsProblem as exc:
        click.echo(f"shopbot: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except ValidationError as exc:  # from Settings: every invalid variable, one line each
        for line in describe_errors(exc):
            click.echo(f"shopbot: {line}", err=True)
        sys.exit(EXIT_CONFIG)
    except NotReady as exc:  # the database or Redis, in one line
        click.echo(f"shopbot: {exc}", err=True)
        sys.exit(exc.exit_code)
    except DomainError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
