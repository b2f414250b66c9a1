"""The port to a crypto payment gateway (Heleket), as the top-up use cases see it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from shopbot.domain.errors import DomainError


class GatewayError(DomainError):
    """The gateway refused or could not be reached. Messages carry no secrets."""


class GatewayUnavailable(GatewayError):
    """Transport failure, 5xx after retries, or the circuit breaker is open: try later."""


class GatewayUnauthorized(GatewayError):
    """401: wrong merchant id or key (Heleket answers `Invalid Sign.`)."""


class GatewayRejected(GatewayError):
    """The gateway answered `state != 0` (e.g. "Payment not found") or 422 validation errors."""

    def __init__(self, message: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors: Mapping[str, list[str]] = errors or {}


@dataclass(frozen=True, slots=True)
class InvoiceRequest:
    order_id: str
    amount: Decimal
    currency: str
    url_callback: str
    lifetime: int = 3600
    additional_data: str | None = None
    url_return: str | None = None
    url_success: str | None = None
    is_payment_multiple: bool = False
    to_currency: str | None = None
    network: str | None = None


@dataclass(frozen=True, slots=True)
class GatewayInvoice:
    uuid: str
    order_id: str
    amount: Decimal
    currency: str
    status: str
    is_final: bool
    url: str | None = None
    expired_at: datetime | None = None
    payment_amount: Decimal | None = None
    payment_amount_usd: Decimal | None = None
    payer_amount: Decimal | None = None
    payer_currency: str | None = None
    merchant_amount: Decimal | None = None
    additional_data: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: list[GatewayInvoice]
    next_cursor: str | None
    previous_cursor: str | None


class PaymentGateway(Protocol):
    async def create_invoice(self, request: InvoiceRequest) -> GatewayInvoice: ...

    async def payment_info(
        self, *, uuid: str | None = None, order_id: str | None = None
    ) -> GatewayInvoice: ...

    async def refund(
        self,
        *,
        address: str,
        is_subtract: bool,
        uuid: str | None = None,
        order_id: str | None = None,
        amount: Decimal | None = None,
    ) -> None: ...
