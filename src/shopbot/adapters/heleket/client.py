"""The Heleket merchant API client (SPEC §1-§2), an implementation of `PaymentGateway`.

Signing, retries, the circuit breaker and the response envelope live in `transport.py`;
response parsing in `schemas.py`. Amounts go out as strings built from Decimal.
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx

from shopbot.adapters.heleket.breaker import CircuitBreaker
from shopbot.adapters.heleket.schemas import (
    Service,
    parse_history,
    parse_invoice,
    parse_services,
)
from shopbot.adapters.heleket.transport import SignedTransport, build_body
from shopbot.config import Settings, is_placeholder, require_secrets
from shopbot.domain.payments.gateway import (
    GatewayError,
    GatewayInvoice,
    HistoryPage,
    InvoiceRequest,
    PaymentGateway,
)

__all__ = ["DEFAULT_BASE_URL", "HeleketClient", "Service", "build_body"]

DEFAULT_BASE_URL = "https://api.heleket.com"
HELEKET_TZ = timezone(timedelta(hours=3))
"""Heleket's server time (its `created_at` values carry +03:00); history dates are sent in it."""
WebhookKind = Literal["payment", "wallet", "payout"]


def amount_text(amount: Decimal) -> str:
    """A positive Decimal as Heleket wants it: plain notation, `.` separator, digits kept."""
    if not isinstance(amount, Decimal):
        raise TypeError("amounts must be Decimal, never float or str")
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be a positive finite number")
    return format(amount, "f")


def history_date(moment: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS`; aware datetimes are converted to Heleket's +03:00 first."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(HELEKET_TZ)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _either(uuid: str | None, order_id: str | None) -> None:
    if uuid is None and order_id is None:
        raise ValueError("give uuid or order_id")


class HeleketClient:
    """Implements `PaymentGateway`, plus history, resend, test webhooks and services."""

    def __init__(
        self,
        *,
        merchant_id: str,
        api_key: str,
        payout_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        retry_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 30.0,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not merchant_id or not api_key:
            raise ValueError("merchant_id and api_key are required")
        if http_client is not None and transport is not None:
            raise ValueError("give either transport or http_client, not both")
        self._api_key = api_key
        self._payout_key = payout_key or None
        self._owns_http = http_client is None
        self._base_url = base_url.rstrip("/")
        self._merchant_id = merchant_id
        self._transport = SignedTransport(
            http=http_client or httpx.AsyncClient(transport=transport, timeout=timeout),
            base_url=base_url,
            merchant_id=merchant_id,
            secrets=(api_key, payout_key or ""),
            timeout=timeout,
            attempts=retry_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            breaker=breaker or CircuitBreaker(breaker_threshold, breaker_cooldown),
        )

    @property
    def breaker(self) -> CircuitBreaker:
        return self._transport.breaker

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Self:
        """A client for HELEKET_API_URL; refuses to build without the merchant id and key."""
        require_secrets(settings, "heleket_merchant_id", "heleket_api_key")
        assert settings.heleket_merchant_id is not None
        assert settings.heleket_api_key is not None
        payout = settings.heleket_payout_key
        payout_key = payout.get_secret_value() if payout is not None else None
        return cls(
            base_url=settings.heleket_api_url,
            merchant_id=settings.heleket_merchant_id,
            api_key=settings.heleket_api_key.get_secret_value(),
            payout_key=None if payout_key is None or is_placeholder(payout_key) else payout_key,
            **options,
        )

    def __repr__(self) -> str:
        return f"HeleketClient(base_url={self._base_url!r}, merchant_id={self._merchant_id!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._transport.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- endpoints ---------------------------------------------------------------------------

    async def create_invoice(self, request: InvoiceRequest) -> GatewayInvoice:
        """POST /v1/payment. Idempotent on `order_id`: Heleket returns the existing invoice."""
        params = {
            "amount": amount_text(request.amount),
            "currency": request.currency,
            "order_id": request.order_id,
            "to_currency": request.to_currency,
            "network": request.network,
            "url_callback": request.url_callback,
            "url_return": request.url_return,
            "url_success": request.url_success,
            "lifetime": request.lifetime,
            "is_payment_multiple": request.is_payment_multiple,
            "additional_data": request.additional_data,
        }
        return parse_invoice(await self._post("/v1/payment", params))

    async def payment_info(
        self, *, uuid: str | None = None, order_id: str | None = None
    ) -> GatewayInvoice:
        """POST /v1/payment/info (if both are given, Heleket uses order_id)."""
        _either(uuid, order_id)
        result = await self._post("/v1/payment/info", {"uuid": uuid, "order_id": order_id})
        return parse_invoice(result)

    async def payment_history(
        self,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        cursor: str | None = None,
    ) -> HistoryPage:
        """POST /v1/payment/list; the cursor travels in the (unsigned) query string."""
        params = {"date_from": history_date(date_from), "date_to": history_date(date_to)}
        query = {"cursor": cursor} if cursor else None
        return parse_history(await self._post("/v1/payment/list", params, query=query))

    async def resend_webhook(self, *, uuid: str | None = None, order_id: str | None = None) -> None:
        """POST /v1/payment/resend: replays the last webhook of a finalised invoice."""
        _either(uuid, order_id)
        await self._post("/v1/payment/resend", {"uuid": uuid, "order_id": order_id})

    async def test_webhook(
        self,
        kind: WebhookKind,
        *,
        url_callback: str,
        currency: str,
        network: str,
        status: str = "paid",
        uuid: str | None = None,
        order_id: str | None = None,
    ) -> None:
        """POST /v1/test-webhook/{kind}: Heleket sends a synthetic signed webhook."""
        if kind not in ("payment", "wallet", "payout"):
            raise ValueError("kind must be 'payment', 'wallet' or 'payout'")
        params = {
            "uuid": uuid,
            "order_id": order_id,
            "currency": currency,
            "network": network,
            "url_callback": url_callback,
            "status": status,
        }
        await self._post(f"/v1/test-webhook/{kind}", params)

    async def services(self) -> list[Service]:
        """POST /v1/payment/services with an empty body (so the sign is md5(key))."""
        return parse_services(await self._post("/v1/payment/services", None))

    async def refund(
        self,
        *,
        address: str,
        is_subtract: bool,
        uuid: str | None = None,
        order_id: str | None = None,
        amount: Decimal | None = None,
    ) -> None:
        """POST /v1/payment/refund, signed with the payout key (if both given, uuid wins).

        Moves money, so it is retried only when the connection could not be made: after a
        timeout or a 5xx the refund may have happened, and retrying a partial one could pay
        twice. Check the payment status before trying again."""
        if self._payout_key is None:
            raise GatewayError("refunds need the Heleket payout key (HELEKET_PAYOUT_KEY)")
        _either(uuid, order_id)
        params = {
            "uuid": uuid,
            "order_id": order_id,
            "address": address,
            "is_subtract": is_subtract,
            "amount": None if amount is None else amount_text(amount),
        }
        await self._post("/v1/payment/refund", params, key=self._payout_key, idempotent=False)

    async def _post(
        self,
        path: str,
        params: dict[str, Any] | None,
        *,
        key: str | None = None,
        query: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        return await self._transport.post(
            path, params, key=key or self._api_key, query=query, idempotent=idempotent
        )


if TYPE_CHECKING:  # mypy checks that the client satisfies the port
    _gateway: PaymentGateway = HeleketClient(merchant_id="m", api_key="k")
