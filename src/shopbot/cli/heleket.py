"""`shopbot heleket`: operator tools for the Heleket gateway."""

import json
from typing import Any, BinaryIO

import click

from shopbot.adapters.heleket.signature import (
    InvalidSignature,
    php_json_decode,
    php_json_encode,
    verify_webhook,
)
from shopbot.cli.runtime import load_settings
from shopbot.config import require_secrets

# Printed as "label: value [currency]"; a missing or null field prints as "-".
FIELDS = (
    ("type", None),
    ("status", None),
    ("uuid", None),
    ("order_id", None),
    ("amount", "currency"),
    ("payment_amount", "payer_currency"),
    ("is_final", None),
)


class BadInput(click.ClickException):
    exit_code = 2


@click.group()
def heleket() -> None:
    """The Heleket crypto payment gateway."""


@heleket.command("inspect-webhook")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--key",
    help="API key to check the signature with (default: HELEKET_API_KEY, or "
    "HELEKET_PAYOUT_KEY for a payout webhook)",
)
def inspect_webhook(file: BinaryIO, key: str | None) -> None:
    """Show a webhook body saved in FILE (- for stdin) and check its signature.

    Exit 0 when the signature is valid, 1 when it is not.
    """
    try:
        raw = file.read()
    except OSError as exc:
        raise BadInput(f"cannot read {file.name}: {exc.strerror}") from None
    try:
        data = _parse(raw)
    except ValueError as exc:
        raise BadInput(f"{file.name} is not a webhook body: {exc}") from None
    key_name, secret = _key(data, key)
    for line in describe(data):
        click.echo(line)
    click.echo(f"key: {key_name}")
    try:
        verify_webhook(raw, secret, decoded=data)
    except InvalidSignature as exc:
        click.echo("signature: INVALID")
        click.echo(f"shopbot: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo("signature: valid")


def _parse(raw: bytes) -> dict[str, Any]:
    """The decoded body; ValueError saying why not, without quoting it."""
    try:
        data = php_json_decode(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _key(data: dict[str, Any], given: str | None) -> tuple[str, str]:
    if given is not None:
        if not given.strip():
            raise BadInput("--key is empty")
        return "--key", given
    settings = load_settings()
    field = "heleket_payout_key" if data.get("type") == "payout" else "heleket_api_key"
    require_secrets(settings, field)
    secret = getattr(settings, field)
    return field.upper(), secret.get_secret_value()


def describe(data: dict[str, Any]) -> list[str]:
    lines = []
    for name, unit in FIELDS:
        value = _show(data.get(name))
        if unit is not None and data.get(unit) is not None:
            value += f" {_show(data[unit])}"
        lines.append(f"{name}: {value}")
    return lines


def _show(value: object) -> str:
    """A field value for a terminal: control characters escaped, never raw."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else php_json_encode(value)
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
