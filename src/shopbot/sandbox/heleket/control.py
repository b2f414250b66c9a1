"""The JSON control API under /sandbox for tests and the demo (the page's buttons use the
same `Emulator` methods)."""

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from shopbot.sandbox.heleket import payloads
from shopbot.sandbox.heleket.config import ManualClock
from shopbot.sandbox.heleket.emulator import Emulator, UnknownInvoice
from shopbot.sandbox.heleket.state import BusinessError, Invoice
from shopbot.sandbox.heleket.validation import to_bool, to_decimal


class BadRequest(Exception):
    pass


def snapshot(emulator: Emulator, invoice: Invoice) -> dict[str, Any]:
    refund = invoice.refund
    return {
        "invoice": payloads.result(emulator.config, invoice),
        "merchant_id": invoice.merchant_id,
        "url_callback": invoice.url_callback,
        "is_payment_multiple": invoice.is_payment_multiple,
        "paid": payloads.money(invoice.paid),
        "remaining": payloads.money(invoice.remaining),
        "payments": [
            {
                "amount": payloads.money(p.amount),
                "txid": p.txid,
                "from": p.sender,
                "at": payloads.moscow(p.at),
            }
            for p in invoice.payments
        ],
        "refund": None
        if refund is None
        else {
            "amount": payloads.money(refund.amount),
            "address": refund.address,
            "is_subtract": refund.is_subtract,
            "txid": refund.txid,
        },
        "refund_outcome": invoice.refund_outcome,
        "webhooks": invoice.webhooks,
    }


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("body is not JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def flag(data: dict[str, Any], name: str, default: bool) -> bool:
    if name not in data:
        return default
    value = to_bool(data[name])
    if value is None:
        raise BadRequest(f"{name} must be a boolean")
    return value


def amount_of(data: dict[str, Any]) -> Decimal | None:
    if data.get("amount") in (None, ""):
        return None
    amount = to_decimal(data["amount"])
    if amount is None or amount <= 0 or amount > 10**12:
        raise BadRequest("amount must be a positive decimal string")
    return amount


def build_router(emulator: Emulator) -> APIRouter:
    router = APIRouter(prefix="/sandbox")

    async def act(request: Request, uuid: str, action: str) -> JSONResponse:
        try:
            data = await json_body(request)
            deliver = flag(data, "deliver", True)
            if action == "pay":
                invoice = emulator.pay(uuid, amount_of(data), deliver=deliver)
            elif action == "expire":
                invoice = emulator.expire(uuid, deliver=deliver)
            else:
                outcome = str(data.get("outcome", ""))
                invoice = emulator.refund_outcome(uuid, outcome, deliver=deliver)
        except UnknownInvoice:
            return JSONResponse({"error": f"invoice {uuid} not found"}, 404)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except BusinessError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        return JSONResponse(snapshot(emulator, invoice))

    @router.post("/invoices/{uuid}/pay")
    async def pay(uuid: str, request: Request) -> JSONResponse:
        """Body {"amount": "<payer-currency amount>", "deliver": true}; no amount: exact."""
        return await act(request, uuid, "pay")

    @router.post("/invoices/{uuid}/expire")
    async def expire(uuid: str, request: Request) -> JSONResponse:
        return await act(request, uuid, "expire")

    @router.post("/invoices/{uuid}/refund-outcome")
    async def refund_outcome(uuid: str, request: Request) -> JSONResponse:
        """Body {"outcome": "paid"|"fail"|"hold"}."""
        return await act(request, uuid, "refund-outcome")

    @router.get("/invoices/{uuid}")
    async def invoice(uuid: str) -> JSONResponse:
        try:
            return JSONResponse(snapshot(emulator, emulator.invoice(uuid)))
        except UnknownInvoice:
            return JSONResponse({"error": f"invoice {uuid} not found"}, 404)

    @router.get("/invoices")
    async def invoices() -> JSONResponse:
        emulator.expire_due()
        found = sorted(emulator.store.by_uuid.values(), key=lambda i: i.seq)
        return JSONResponse([snapshot(emulator, i) for i in found])

    @router.get("/deliveries")
    async def deliveries(uuid: str | None = None) -> JSONResponse:
        attempts = emulator.webhooks.attempts
        return JSONResponse([a for a in attempts if uuid is None or a.get("uuid") == uuid])

    @router.get("/webhooks")
    async def webhooks_state() -> JSONResponse:
        return JSONResponse({"paused": emulator.paused, "pending": emulator.webhooks.pending})

    @router.post("/webhooks")
    async def webhooks(request: Request) -> JSONResponse:
        """Body {"paused": true}: webhooks emitted from now on are lost (never sent)."""
        try:
            emulator.paused = flag(await json_body(request), "paused", emulator.paused)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"paused": emulator.paused, "pending": emulator.webhooks.pending})

    @router.get("/settle")
    async def settle(seconds: float = Query(10.0, alias="timeout")) -> JSONResponse:
        """Waits until no webhook is queued or being retried (504 if `timeout` passes)."""
        settled = await emulator.webhooks.wait_idle(seconds)
        body = {"settled": settled, "pending": emulator.webhooks.pending}
        return JSONResponse(body, 200 if settled else 504)

    @router.post("/clock/advance")
    async def advance(request: Request) -> JSONResponse:
        """Body {"seconds": n}; only when the emulator runs on a ManualClock."""
        clock = emulator.config.clock
        if not isinstance(clock, ManualClock):
            return JSONResponse({"error": "the emulator uses the system clock"}, 409)
        try:
            seconds = to_decimal((await json_body(request)).get("seconds"))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, 400)
        if seconds is None:
            return JSONResponse({"error": "seconds must be a number"}, 400)
        now = clock.advance(float(seconds))
        emulator.expire_due()
        return JSONResponse({"now": payloads.moscow(now)})

    return router
