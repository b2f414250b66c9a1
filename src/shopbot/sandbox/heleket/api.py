"""The merchant API under /v1 (SPEC §1-§2): signed POSTs, Laravel-style errors."""

import base64
import hmac
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from shopbot.adapters.heleket.signature import sign
from shopbot.sandbox.heleket import payloads
from shopbot.sandbox.heleket.emulator import Emulator
from shopbot.sandbox.heleket.state import BusinessError, Invoice
from shopbot.sandbox.heleket.validation import Rule, Schema, to_bool, to_decimal, to_int, validate

URL: list[Rule] = ["string", "url", ("min", 6), ("max", 255)]
ORDER_ID: list[Rule] = ["string", ("min", 1), ("max", 128), "alpha_dash"]
CREATE: Schema = {
    "amount": ["required", "numeric", ("gt", 0), ("max", 10**12)],
    "currency": ["required", "string"],
    "order_id": ["required", *ORDER_ID],
    "network": ["string"],
    "url_return": URL,
    "url_success": URL,
    "url_callback": URL,
    "is_payment_multiple": ["boolean"],
    "lifetime": ["integer", ("min", 300), ("max", 43200)],
    "to_currency": ["string"],
    "subtract": ["integer", ("min", 0), ("max", 100)],
    "accuracy_payment_percent": ["numeric", ("min", 0), ("max", 5)],
    "additional_data": ["string", ("max", 255)],
    "currencies": ["array"],
    "except_currencies": ["array"],
    "course_source": ["string", ("min", 4), ("max", 20)],
    "from_referral_code": ["string"],
    "discount_percent": ["integer", ("min", -99), ("max", 100)],
    "is_refresh": ["boolean"],
    "payer_email": ["string"],
}
LOOKUP: Schema = {
    "uuid": [("required_without", "order_id"), "uuid"],
    "order_id": [("required_without", "uuid"), *ORDER_ID],
}
REFUND: Schema = {
    "address": ["required", "string"],
    "is_subtract": ["required", "boolean"],
    **LOOKUP,
    "amount": ["numeric", ("gt", 0), ("max", 10**12)],
}
DATE: list[Rule] = [("date_format", "%Y-%m-%d %H:%M:%S")]
HISTORY: Schema = {"date_from": DATE, "date_to": DATE}
STATUSES = (
    "process",
    "check",
    "confirm_check",
    "paid",
    "paid_over",
    "fail",
    "wrong_amount",
    "wrong_amount_waiting",
    "cancel",
    "system_fail",
    "refund_process",
    "refund_fail",
    "refund_paid",
    "locked",
)
TEST_WEBHOOK: Schema = {
    "url_callback": ["required", "string", "url", ("min", 6), ("max", 150)],
    "currency": ["required", "string"],
    "network": ["required", "string"],
    "uuid": ["uuid"],
    "order_id": ["string", ("min", 1), ("max", 32), "alpha_dash"],
    "status": ["string", ("in", STATUSES)],
}


def php_json(content: Any, status_code: int = 200) -> Response:
    """Laravel's JsonResponse bytes: compact, `\\/` and `\\uXXXX` escapes."""
    body = json.dumps(content, separators=(",", ":")).replace("/", "\\/")
    return Response(body, status_code=status_code, media_type="application/json")


def ok(result: Any) -> Response:
    return php_json({"state": 0, "result": result})


def refused(error: BusinessError) -> Response:
    message = str(error)
    return php_json({"state": 1, "message": message}, 404 if message.endswith("not found") else 400)


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Refusal(Exception):
    """An answer raised instead of returned, so that a dependency can end the request."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class MerchantRoute(APIRoute):
    """Answers a `Refusal` with its response: a FastAPI dependency cannot return one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_refusal(request: Request) -> Response:
            try:
                return await handle(request)
            except Refusal as refusal:
                return refusal.response

        return handle_refusal


@dataclass(frozen=True)
class Signed:
    """A request whose `sign` matched: the merchant and the parsed body."""

    merchant: str
    data: dict[str, Any]


async def authenticate(request: Request, emulator: Emulator, key: str = "payment") -> Signed:
    """The merchant and body if `sign` matches the raw body and the merchant's key; else
    a 401 `Refusal`."""
    raw = await request.body()
    merchant = request.headers.get("merchant", "")
    given = request.headers.get("sign", "")
    keys = emulator.config.merchants.get(merchant)
    secret = keys[1] if keys and key == "payout" else keys[0] if keys else None
    if secret is None or not hmac.compare_digest(given.encode(), sign(raw, secret).encode()):
        raise Refusal(php_json({"state": 1, "message": "Invalid Sign."}, 401))
    return Signed(merchant, parse_body(raw, request.headers.get("content-type", "")))


def invalid(errors: dict[str, list[str]]) -> Response:
    return php_json({"state": 1, "errors": errors}, 422)


def require_valid(data: dict[str, Any], schema: Schema) -> None:
    if errors := validate(data, schema):
        raise Refusal(invalid(errors))


def lookup(data: dict[str, Any], uuid_wins: bool = False) -> tuple[str | None, str | None]:
    uuid, order_id = data.get("uuid") or None, data.get("order_id") or None
    if uuid_wins and uuid:
        return uuid, None
    return uuid, order_id


def msk_time(text: str) -> datetime:
    """A `Y-m-d H:i:s` history bound, read in Heleket's +03:00."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=payloads.MSK)


def cursor_token(seq: int, forward: bool) -> str:
    raw = json.dumps({"seq": seq, "_pointsToNextItems": forward}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(token: str | None) -> tuple[int, bool] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["seq"]), bool(data["_pointsToNextItems"])
    except (ValueError, KeyError, TypeError):
        return None


def paginate(
    items: list[Invoice], cursor: tuple[int, bool] | None, per_page: int
) -> tuple[list[Invoice], str | None, str | None]:
    """Laravel-style cursor pagination over newest-first items."""
    if cursor is None:
        page, before, after = items[:per_page], False, len(items) > per_page
    elif cursor[1]:
        rest = [i for i in items if i.seq < cursor[0]]
        page, before, after = rest[:per_page], True, len(rest) > per_page
    else:
        rest = [i for i in items if i.seq > cursor[0]]
        page, before, after = rest[-per_page:], len(rest) > per_page, True
    next_cursor = cursor_token(page[-1].seq, True) if after and page else None
    previous = cursor_token(page[0].seq, False) if before and page else None
    return page, next_cursor, previous


def build_router(emulator: Emulator) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=MerchantRoute)
    config = emulator.config

    def signed(schema: Schema | None = None, key: str = "payment") -> Any:
        """The dependency every merchant call starts with: 401 unless signed with `key`,
        then 422 unless the body passes `schema`, in Heleket's order."""

        async def signed_request(request: Request) -> Signed:
            caller = await authenticate(request, emulator, key)
            if schema is not None:
                require_valid(caller.data, schema)
            return caller

        return Depends(signed_request)

    @router.post("/payment")
    async def create_invoice(caller: Annotated[Signed, signed(CREATE)]) -> Response:
        data = caller.data
        fields = dict(data)
        fields["amount"] = to_decimal(data["amount"])
        fields["lifetime"] = to_int(data.get("lifetime")) or 3600
        multiple = to_bool(data.get("is_payment_multiple"))
        fields["is_payment_multiple"] = True if multiple is None else multiple
        fields["accuracy_payment_percent"] = to_decimal(data.get("accuracy_payment_percent"))
        fields["discount_percent"] = to_int(data.get("discount_percent"))
        fields["is_refresh"] = bool(to_bool(data.get("is_refresh")))
        try:
            invoice = emulator.create(caller.merchant, fields)
        except BusinessError as error:
            return refused(error)
        return ok(payloads.result(config, invoice))

    @router.post("/payment/info")
    async def payment_info(caller: Annotated[Signed, signed(LOOKUP)]) -> Response:
        try:
            invoice = emulator.find(caller.merchant, *lookup(caller.data))
        except BusinessError as error:
            return refused(error)
        return ok(payloads.result(config, invoice))

    @router.post("/payment/list")
    async def payment_list(
        request: Request, caller: Annotated[Signed, signed(HISTORY)]
    ) -> Response:
        data = caller.data
        emulator.expire_due()
        items = emulator.store.of_merchant(caller.merchant)
        if data.get("date_from"):
            start = msk_time(data["date_from"])
            items = [i for i in items if i.created_at >= start]
        if data.get("date_to"):
            end = msk_time(data["date_to"])
            items = [i for i in items if i.created_at <= end]
        cursor = read_cursor(request.query_params.get("cursor"))
        page, next_cursor, previous = paginate(items, cursor, config.per_page)
        paginate_info = {
            "count": len(page),
            "hasPages": bool(next_cursor or previous),
            "nextCursor": next_cursor,
            "previousCursor": previous,
            "perPage": config.per_page,
        }
        return ok({"items": [payloads.result(config, i) for i in page], "paginate": paginate_info})

    @router.post("/payment/resend")
    async def resend(caller: Annotated[Signed, signed(LOOKUP)]) -> Response:
        try:
            emulator.resend(emulator.find(caller.merchant, *lookup(caller.data)))
        except BusinessError as error:
            return refused(error)
        return ok([])

    @router.post("/payment/refund")
    async def refund(caller: Annotated[Signed, signed(REFUND, key="payout")]) -> Response:
        data = caller.data
        amount = to_decimal(data.get("amount")) if data.get("amount") is not None else None
        try:
            invoice = emulator.find(caller.merchant, *lookup(data, uuid_wins=True))
            emulator.refund(
                invoice, amount, str(data["address"]), bool(to_bool(data["is_subtract"]))
            )
        except BusinessError as error:
            return refused(error)
        return ok([])

    @router.post("/payment/services", dependencies=[signed()])
    async def services() -> Response:
        percent = payloads.money(config.commission_percent)
        return ok(
            [
                {
                    "network": network,
                    "currency": currency,
                    "is_available": True,
                    "limit": {"min_amount": "1.00", "max_amount": "1000000.00"},
                    "commission": {"fee_amount": "0.00", "percent": percent},
                }
                for currency, network in config.networks.items()
            ]
        )

    @router.post("/test-webhook/{kind}")
    async def test_webhook(kind: str, caller: Annotated[Signed, signed()]) -> Response:
        if kind not in ("payment", "wallet", "payout"):
            return php_json({"state": 1, "message": "Not found"}, 404)
        # Validated only here, after the kind: an unknown kind is a 404, not a 422.
        require_valid(caller.data, TEST_WEBHOOK)
        emulator.test_webhook(caller.merchant, kind, caller.data)
        return ok([])

    @router.get("/exchange-rate/{currency}/list")
    async def exchange_rates(currency: str) -> Response:
        rates = [
            {"from": currency, "to": to, "course": str(Decimal(rate))}
            for to, rate in config.rates.get(currency, {}).items()
        ]
        return ok(rates)

    return router
