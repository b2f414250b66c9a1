"""Turning a verified Heleket webhook into the domain's PaymentEvent."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from shopbot.domain.payments.models import PaymentEvent


class MalformedWebhook(ValueError):
    pass


def _decimal(payload: Mapping[str, Any], name: str) -> Decimal | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedWebhook(f"{name} must be a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MalformedWebhook(f"{name} is not a number") from None
    if not number.is_finite():
        raise MalformedWebhook(f"{name} is not a finite number")
    return number


def _text(payload: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise MalformedWebhook(f"{name} must be a non-empty string")
    return value


def _required(payload: Mapping[str, Any], name: str) -> str:
    value = _text(payload, name, required=True)
    if value is None:
        raise MalformedWebhook(f"{name} is required")
    return value


def payment_event(payload: Mapping[str, Any], raw_body: bytes) -> PaymentEvent:
    return PaymentEvent(
        uuid=_required(payload, "uuid"),
        status=_required(payload, "status"),
        order_id=_text(payload, "order_id"),
        amount=_decimal(payload, "amount"),
        currency=_text(payload, "currency"),
        payment_amount=_decimal(payload, "payment_amount"),
        payment_amount_usd=_decimal(payload, "payment_amount_usd"),
        payer_amount=_decimal(payload, "payer_amount"),
        payer_currency=_text(payload, "payer_currency"),
        is_final=payload.get("is_final") is True,
        kind=_text(payload, "type") or "payment",
        source="webhook",
        body=raw_body.decode("utf-8"),
    )
