"""POST /webhook/heleket: verify, record once, apply in one transaction, answer 200.

A redelivery of an event this process saw committed is answered 200 without the database:
a byte-identical body before it is even parsed, any other after its signature check
(`recorded_events.py`).

4xx (nothing changes) for bodies that are not from Heleket; 5xx when the database or
anything else transient fails, so Heleket delivers again later.
"""

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from shopbot.adapters.heleket.signature import InvalidSignature, php_json_decode, verify_webhook
from shopbot.adapters.heleket.webhooks import MalformedWebhook, payment_event
from shopbot.domain.payments.events import EventResult, Outcome, handle_payment_event
from shopbot.webhook.client_ip import client_ip
from shopbot.webhook.metrics import count_event, count_webhook
from shopbot.webhook.services import WebhookServices

log = logging.getLogger(__name__)
router = APIRouter(tags=["heleket"])

WEBHOOK_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A Heleket payment or payout webhook; `sign` is checked "
                    "against PHP json_encode of the other fields (see docs/payments.md).",
                    "required": ["uuid", "status", "sign"],
                    "properties": {
                        "type": {"type": "string", "enum": ["payment", "wallet", "payout"]},
                        "uuid": {"type": "string"},
                        "order_id": {"type": "string"},
                        "status": {"type": "string"},
                        "amount": {"type": "string"},
                        "currency": {"type": "string"},
                        "payment_amount": {"type": "string"},
                        "payer_currency": {"type": "string"},
                        "is_final": {"type": "boolean"},
                        "sign": {"type": "string"},
                    },
                    "additionalProperties": True,
                }
            }
        },
    }
}


def _answer(status_code: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"status": message, **extra}, status_code=status_code)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    # ASCII only: isdigit() is also true for "²", which int() refuses.
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or int(declared) > limit
    ):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


@router.post(
    "/webhook/heleket",
    summary="Heleket payment webhook",
    openapi_extra=WEBHOOK_SCHEMA,
    responses={
        200: {"description": "recorded (or a duplicate of a recorded event)"},
        400: {"description": "malformed body"},
        401: {"description": "bad signature"},
        403: {"description": "source address not allowed"},
        413: {"description": "body too large"},
        503: {"description": "transient failure; Heleket retries"},
    },
)
async def heleket_webhook(request: Request) -> JSONResponse:
    services: WebhookServices = request.app.state.services
    peer = request.client.host if request.client else None
    source = client_ip(peer, request.headers, services.trusted_proxies)
    if source is None or source not in services.allowed_ips:
        log.warning("heleket webhook refused: source %s not allowed", source)
        count_webhook("bad_ip")
        return _answer(403, "forbidden")
    raw = await _read_body(request, services.max_body_bytes)
    if raw is None:
        count_webhook("error")
        return _answer(413, "too large")
    if services.recorded.seen_body(raw):
        count_event(EventResult(Outcome.DUPLICATE))
        log.info("heleket webhook: duplicate (the same body seen committed)")
        return _answer(200, "ok", outcome=Outcome.DUPLICATE.value)
    try:
        decoded = php_json_decode(raw)
    except ValueError:
        count_webhook("error")
        return _answer(400, "malformed")
    if not isinstance(decoded, dict):
        count_webhook("error")
        return _answer(400, "malformed")
    key = services.payout_key if decoded.get("type") == "payout" else services.payment_key
    try:
        payload = verify_webhook(raw, key or "", decoded=decoded)
        event = payment_event(payload, raw)
    except InvalidSignature:
        log.warning("heleket webhook refused: bad signature from %s", source)
        count_webhook("bad_signature")
        return _answer(401, "bad signature")
    except MalformedWebhook as exc:
        count_webhook("error")
        return _answer(400, "malformed", detail=str(exc))
    if services.recorded.seen(event.uuid, event.status):
        services.recorded.remember(event.uuid, event.status, raw)
        count_event(EventResult(Outcome.DUPLICATE))
        log.info("heleket webhook %s/%s: duplicate (seen committed)", event.uuid, event.status)
        return _answer(200, "ok", outcome=Outcome.DUPLICATE.value)
    try:
        async with services.uow_factory() as uow:
            result = await handle_payment_event(uow, event)
            await uow.commit()
    except (DBAPIError, SQLAlchemyError, OSError, TimeoutError):
        log.exception("heleket webhook %s/%s: database unavailable", event.uuid, event.status)
        count_webhook("error")
        return _answer(503, "unavailable")
    services.recorded.remember(event.uuid, event.status, raw)
    count_event(result)
    log.info(
        "heleket webhook %s/%s: %s%s",
        event.uuid,
        event.status,
        result.outcome,
        f" ({result.note})" if result.note else "",
    )
    if services.notify is not None and result.outcome is Outcome.APPLIED:
        try:
            await services.notify(result)
        except Exception:  # the payment is durable; a lost notice must not fail it
            log.exception("payment notification for %s failed", event.uuid)
    return _answer(200, "ok", outcome=result.outcome.value)
