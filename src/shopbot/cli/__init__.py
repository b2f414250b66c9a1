"""The `shopbot` command."""

import importlib
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from shopbot.config import Settings

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
    "healthcheck": "shopbot.cli.healthcheck:healthcheck",
    "redis": "shopbot.cli.redis:redis",
}


# Long-running processes: they log at LOG_LEVEL (INFO lines tell what they do).
SERVICES = frozenset({"bot", "webhook"})
# Commands that read no settings and log nothing: Docker runs `healthcheck` every few
# seconds, and settings and logging would import pydantic and SQLAlchemy (~1 s) each time.
LEAN = frozenset({"healthcheck"})


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
    if ctx.invoked_subcommand in LEAN:
        return
    from shopbot.observability.logging import configure_logging

    settings = settings_if_valid()
    if ctx.invoked_subcommand in SERVICES:
        configure_logging(settings)
    else:  # a one-shot command's output is its result; its logs only when something is wrong
        debug = settings is not None and settings.log_level == "DEBUG"
        configure_logging(settings, level="DEBUG" if debug else "WARNING")


def settings_if_valid() -> "Settings | None":
    """The settings for logging's sake; None when invalid (the command itself loads them
    again and reports every problem, as before)."""
    from pydantic import ValidationError

    from shopbot.config import Settings, SettingsProblem

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
    except Exception as exc:
        lines, code = explain(exc)
        if code is None:
            raise
        for line in lines:
            click.echo(line, err=True)
        sys.exit(code)


def explain(exc: Exception) -> tuple[list[str], int | None]:
    """The lines and exit code for an error a command may raise; code None for anything
    else (a bug: its traceback is shown). Imported here, not at the top, so that a lean
    command never loads settings (the module raising `exc` was loaded anyway)."""
    from pydantic import ValidationError

    from shopbot.config import SettingsProblem
    from shopbot.config_rules import describe_errors
    from shopbot.domain.errors import DomainError
    from shopbot.readiness import NotReady

    if isinstance(exc, SettingsProblem):
        return [f"shopbot: {exc}"], EXIT_CONFIG
    if isinstance(exc, ValidationError):  # from Settings: every invalid variable, one line each
        return [f"shopbot: {line}" for line in describe_errors(exc)], EXIT_CONFIG
    if isinstance(exc, NotReady):  # the database or Redis, in one line
        return [f"shopbot: {exc}"], exc.exit_code
    if isinstance(exc, DomainError):
        return [f"error: {exc}"], EXIT_FAILURE
    return [], None
