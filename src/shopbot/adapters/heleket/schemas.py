"""Parsing Heleket responses (SPEC §1.3, §2): the envelope, invoices, history pages, services.

Amounts become Decimal (JSON numbers are decoded straight to Decimal, never float);
null or missing amounts become None; `expired_at` (unix seconds) becomes an aware UTC datetime.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shopbot.domain.payments.gateway import GatewayInvoice, GatewayUnavailable, HistoryPage
from shopbot.domain.payments.models import FINAL_STATUSES


class HeleketBadResponse(GatewayUnavailable):
    """Heleket answered something that is not the documented JSON envelope or schema."""


@dataclass(frozen=True, slots=True)
class Service:
    """One row of `/v1/payment/services`: a currency on a network and its limits and fees."""

    network: str
    currency: str
    is_available: bool
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    fee_amount: Decimal | None = None
    commission_percent: Decimal | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(content: bytes) -> Any:
    """Decode a response body; JSON numbers with a fraction become Decimal. Raises
    HeleketBadResponse (never echoing the body) if it is not strict UTF-8 JSON."""
    try:
        return json.loads(
            content.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant
        )
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HeleketBadResponse(f"the response body is not JSON ({len(content)} bytes)") from None


def decimal_or_none(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise HeleketBadResponse(f"Heleket field {name!r} is not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise HeleketBadResponse(f"Heleket field {name!r} is not an amount") from None
    if not amount.is_finite():
        raise HeleketBadResponse(f"Heleket field {name!r} is not a finite amount")
    return amount


def timestamp_or_none(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "²"
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HeleketBadResponse(f"Heleket field {name!r} is not unix seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise HeleketBadResponse(f"Heleket field {name!r} is out of range") from None


def _text(result: Mapping[str, Any], name: str) -> str | None:
    value = result.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise HeleketBadResponse(f"Heleket field {name!r} is not a string")
    return str(value)


def _required(result: Mapping[str, Any], name: str) -> str:
    value = _text(result, name)
    if not value:
        raise HeleketBadResponse(f"Heleket response has no {name!r}")
    return value


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise HeleketBadResponse(f"Heleket {what} is not a JSON object")
    return value


def parse_invoice(value: Any) -> GatewayInvoice:
    """The invoice object of `/v1/payment` and `/v1/payment/info` (SPEC §2.1)."""
    result = _mapping(value, "invoice")
    status = _text(result, "status") or _required(result, "payment_status")
    is_final = result.get("is_final")
    amount = decimal_or_none(result.get("amount"), "amount")
    if amount is None:
        raise HeleketBadResponse("Heleket response has no 'amount'")
    return GatewayInvoice(
        uuid=_required(result, "uuid"),
        order_id=_required(result, "order_id"),
        amount=amount,
        currency=_required(result, "currency"),
        status=status,
        # SPEC §3: the SDKs trust `is_final` when present, else the status table.
        is_final=bool(is_final) if is_final is not None else status in FINAL_STATUSES,
        url=_text(result, "url"),
        expired_at=timestamp_or_none(result.get("expired_at"), "expired_at"),
        payment_amount=decimal_or_none(result.get("payment_amount"), "payment_amount"),
        payment_amount_usd=decimal_or_none(result.get("payment_amount_usd"), "payment_amount_usd"),
        payer_amount=decimal_or_none(result.get("payer_amount"), "payer_amount"),
        payer_currency=_text(result, "payer_currency"),
        merchant_amount=decimal_or_none(result.get("merchant_amount"), "merchant_amount"),
        additional_data=_text(result, "additional_data"),
        raw=result,
    )


def _cursor(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def parse_history(value: Any) -> HistoryPage:
    """`{"items": [invoice...], "paginate": {"nextCursor", "previousCursor", ...}}` (§2.3)."""
    result = _mapping(value or {}, "history")  # PHP encodes an empty array as []
    items = result.get("items") or []
    if not isinstance(items, list):
        raise HeleketBadResponse("Heleket history items are not a list")
    paginate = _mapping(result.get("paginate") or {}, "paginate")
    return HistoryPage(
        items=[parse_invoice(item) for item in items],
        next_cursor=_cursor(paginate.get("nextCursor")),
        previous_cursor=_cursor(paginate.get("previousCursor")),
    )


def parse_services(value: Any) -> list["Service"]:
    """`[{network, currency, is_available, limit:{...}, commission:{...}}, ...]` (§2.7)."""
    if not isinstance(value, list):
        raise HeleketBadResponse("Heleket services result is not a list")
    services = []
    for item in value:
        row = _mapping(item, "service")
        limit = _mapping(row.get("limit") or {}, "service limit")
        commission = _mapping(row.get("commission") or {}, "service commission")
        services.append(
            Service(
                network=_required(row, "network"),
                currency=_required(row, "currency"),
                is_available=bool(row.get("is_available")),
                min_amount=decimal_or_none(limit.get("min_amount"), "min_amount"),
                max_amount=decimal_or_none(limit.get("max_amount"), "max_amount"),
                fee_amount=decimal_or_none(commission.get("fee_amount"), "fee_amount"),
                commission_percent=decimal_or_none(commission.get("percent"), "percent"),
                raw=row,
            )
        )
    return services


def parse_errors(value: Any) -> dict[str, list[str]]:
    """The 422 `errors` member, `{"field": ["validation.rule", ...]}`; PHP sends `[]` for none."""
    if not isinstance(value, Mapping):
        return {}
    errors: dict[str, list[str]] = {}
    for name, rules in value.items():
        items = rules if isinstance(rules, list) else [rules]
        errors[str(name)] = [str(rule) for rule in items]
    return errors
