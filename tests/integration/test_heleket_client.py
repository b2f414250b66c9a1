"""HeleketClient against a scripted Heleket served over real HTTP (no mocks of the client).

Covers SPEC §1 (signing over the exact body bytes, headers, envelope, errors) and §2
(endpoints, parsing), plus retries and the circuit breaker.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from shopbot.adapters.heleket.breaker import CircuitBreaker
from shopbot.adapters.heleket.client import HeleketClient, build_body
from shopbot.adapters.heleket.schemas import HeleketBadResponse
from shopbot.adapters.heleket.signature import php_json_encode, sign
from shopbot.config import MissingSecret, Settings
from shopbot.domain.payments.gateway import (
    GatewayError,
    GatewayRejected,
    GatewayUnauthorized,
    GatewayUnavailable,
    InvoiceRequest,
)
from shopbot.http.serve import free_port
from tests.heleket_script_server import Recorded, Reply, ScriptedHeleket, scripted_heleket
from tests.heleket_vectors import REQUEST_CASES

MERCHANT = "c26b80a8-9549-4a66-bb53-774f12809249"
PAYMENT_KEY = "PaymentKey0h6QpZ2vXw8N4rT1yL5sK9mB3dF7gJ0cV2xE6uA4iO8pW1qR5tY9zU3"
PAYOUT_KEY = "PayoutKey7Gf2Hk9Lm4Nq1Rs6Tv3Wx8Yz5Ab0Cd2Ef7Gh4Ij9Kl1Mn6Op3Qr8St5U"
SECRETS = (PAYMENT_KEY, PAYOUT_KEY)

INVOICE: dict[str, Any] = {  # the shape of SPEC §2.1's result
    "uuid": "26109ba0-b05b-4ee0-93d1-fd62c822ce95",
    "order_id": "tg-100234-7f3a",
    "amount": "10.50",
    "payment_amount": None,
    "payment_amount_usd": "0.00",
    "payer_amount": "10.62",
    "discount_percent": None,
    "discount": "0.00000000",
    "payer_currency": "USDT",
    "currency": "USD",
    "merchant_amount": "10.29",
    "commission": None,
    "network": "tron",
    "address": "TXnxE5pCmGxEwhTzXVdcFpVZ6ZVuBxFtJu",
    "from": None,
    "txid": None,
    "payment_status": "check",
    "status": "check",
    "url": "https://pay.heleket.com/pay/26109ba0-b05b-4ee0-93d1-fd62c822ce95",
    "expired_at": 1767225600,
    "is_final": False,
    "additional_data": "tg_user=123456789",
    "comments": None,
    "created_at": "2026-01-01T02:00:00+03:00",
    "updated_at": "2026-01-01T02:00:00+03:00",
    "address_qr_code": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
    "convert": {"to_currency": "USDT", "commission": None, "rate": "1.01", "amount": "10.62"},
}
SERVICES = [
    {
        "network": "tron",
        "currency": "USDT",
        "is_available": True,
        "limit": {"min_amount": "1.00000000", "max_amount": "1000000.00000000"},
        "commission": {"fee_amount": "0.00", "percent": "0.40"},
    }
]
CALLBACK = "https://shop.example.com/heleket/webhook"


def ok(result: Any) -> Reply:
    return Reply(json={"state": 0, "result": result})


def client_for(base_url: str, **options: Any) -> HeleketClient:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "merchant_id": MERCHANT,
        "api_key": PAYMENT_KEY,
        "payout_key": PAYOUT_KEY,
        "timeout": 2.0,
        "retry_attempts": 3,
        "backoff_base": 0.001,
        "backoff_max": 0.005,
        "breaker_threshold": 50,
        "breaker_cooldown": 0.3,
    }
    settings.update(options)
    return HeleketClient(**settings)


def assert_no_secret(error: BaseException, *others: str) -> None:
    texts = [str(error), repr(error)]
    if error.__cause__ is not None:
        texts.append(str(error.__cause__))
    for text in texts:
        for secret in (*SECRETS, *others):
            assert secret not in text


def sent_json(recorded: Recorded) -> Any:
    return json.loads(recorded.body)


@pytest.fixture
async def heleket() -> AsyncIterator[ScriptedHeleket]:
    async with scripted_heleket() as server:
        yield server


# -- signing and bodies ---------------------------------------------------------------------


async def test_create_invoice_sends_the_signed_php_json_body(heleket: ScriptedHeleket) -> None:
    heleket.then(ok(INVOICE))
    request = InvoiceRequest(
        order_id="tg-100234-7f3a",
        amount=Decimal("10.50"),
        currency="USD",
        url_callback=CALLBACK,
        to_currency="USDT",
        network="tron",
        url_return="https://t.me/my_shop_bot",
        additional_data="tg_user=123456789",
    )
    async with client_for(heleket.base_url) as client:
        invoice = await client.create_invoice(request)

    [sent] = heleket.requests
    assert sent.method == "POST"
    assert sent.path == "/v1/payment"
    assert sent.query == ""
    expected = {
        "amount": "10.50",
        "currency": "USD",
        "order_id": "tg-100234-7f3a",
        "to_currency": "USDT",
        "network": "tron",
        "url_callback": CALLBACK,
        "url_return": "https://t.me/my_shop_bot",
        "lifetime": 3600,
        "is_payment_multiple": False,
        "additional_data": "tg_user=123456789",
    }
    assert sent.body == php_json_encode(expected).encode()
    assert b'"url_callback":"https:\\/\\/shop.example.com\\/heleket\\/webhook"' in sent.body
    assert b"url_success" not in sent.body  # None fields are omitted
    assert sent.headers["sign"] == sign(sent.body, PAYMENT_KEY)
    assert sent.headers["merchant"] == MERCHANT
    assert sent.headers["content-type"] == "application/json"
    assert invoice.uuid == INVOICE["uuid"]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("10.50"), "10.50"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.00000001"), "0.00000001"),
        (Decimal("12345678901234.12345678"), "12345678901234.12345678"),
    ],
)
async def test_amounts_go_out_as_plain_decimal_strings(
    heleket: ScriptedHeleket, amount: Decimal, text: str
) -> None:
    heleket.then(ok(INVOICE), ok([]))
    async with client_for(heleket.base_url) as client:
        await client.create_invoice(InvoiceRequest("o-1", amount, "USDT", CALLBACK))
        await client.refund(address="TXaddr", is_subtract=False, uuid="u-1", amount=amount)

    invoice_body, refund_body = (sent_json(sent) for sent in heleket.requests)
    assert invoice_body["amount"] == text
    assert refund_body["amount"] == text
    assert f'"amount":"{text}"'.encode() in heleket.requests[0].body


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (10.5, TypeError),
        ("10.50", TypeError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (Decimal("0"), ValueError),
        (Decimal("-1.00"), ValueError),
    ],
)
async def test_bad_amounts_are_refused_before_sending(
    heleket: ScriptedHeleket, amount: Any, error: type[Exception]
) -> None:
    async with client_for(heleket.base_url) as client:
        with pytest.raises(error):
            await client.create_invoice(InvoiceRequest("o-1", amount, "USDT", CALLBACK))
        with pytest.raises(error):
            await client.refund(address="TXaddr", is_subtract=True, uuid="u-1", amount=amount)
    assert heleket.requests == []


def _vector(case_id: str) -> dict[str, Any]:
    return next(case for case in REQUEST_CASES if case["id"] == case_id)


@pytest.mark.parametrize(
    "case", [case for case in REQUEST_CASES if "params" in case], ids=lambda case: case["id"]
)
def test_vector_bodies_are_rebuilt_byte_for_byte_from_params(case: dict[str, Any]) -> None:
    body = build_body(case["params"])
    assert body == case["body"].encode()
    assert sign(body, case["api_key"]) == case["expected_sign"]


@pytest.mark.parametrize("case", REQUEST_CASES, ids=lambda case: case["id"])
def test_vector_signs_cover_the_raw_body_bytes(case: dict[str, Any]) -> None:
    assert sign(case["body"].encode(), case["api_key"]) == case["expected_sign"]


async def test_payment_info_matches_the_public_vector(heleket: ScriptedHeleket) -> None:
    case = _vector("pub-req-2-payment-info")
    heleket.then(ok(INVOICE))
    async with client_for(
        heleket.base_url, merchant_id=case["merchant"], api_key=case["api_key"]
    ) as client:
        await client.payment_info(order_id="tg-100234-7f3a")

    [sent] = heleket.requests
    assert sent.path == httpx.URL(case["url"]).path
    assert sent.body == case["body"].encode()
    assert sent.headers["sign"] == case["expected_sign"]
    assert sent.headers["merchant"] == case["merchant"]


async def test_services_signs_the_empty_body_like_the_vector(heleket: ScriptedHeleket) -> None:
    case = _vector("pub-req-3-services-empty-body")
    heleket.then(ok(SERVICES))
    async with client_for(
        heleket.base_url, merchant_id=case["merchant"], api_key=case["api_key"]
    ) as client:
        services = await client.services()

    [sent] = heleket.requests
    assert sent.path == "/v1/payment/services"
    assert sent.body == b""
    assert sent.headers["sign"] == case["expected_sign"] == sign(b"", case["api_key"])
    [service] = services
    assert service.network == "tron"
    assert service.currency == "USDT"
    assert service.is_available is True
    assert service.min_amount == Decimal("1.00000000")
    assert service.max_amount == Decimal("1000000.00000000")
    assert service.fee_amount == Decimal("0.00")
    assert service.commission_percent == Decimal("0.40")
    assert service.raw == SERVICES[0]


async def test_history_sends_the_cursor_in_the_query_string(heleket: ScriptedHeleket) -> None:
    paginate = {
        "count": 1,
        "hasPages": True,
        "nextCursor": "eyJpZCI6MTB9",
        "previousCursor": None,
        "perPage": 15,
    }
    heleket.then(ok({"items": [INVOICE], "paginate": paginate}))
    async with client_for(heleket.base_url) as client:
        page = await client.payment_history(
            date_from=datetime(2026, 1, 1, tzinfo=UTC),
            date_to=datetime(2026, 1, 2, 12, 30, 5, tzinfo=UTC),
            cursor="eyJpZCI6NX0=",
        )

    [sent] = heleket.requests
    assert sent.path == "/v1/payment/list"
    assert parse_qs(sent.query) == {"cursor": ["eyJpZCI6NX0="]}
    # Aware datetimes go out in Heleket's server time, +03:00.
    expected = {"date_from": "2026-01-01 03:00:00", "date_to": "2026-01-02 15:30:05"}
    assert sent.body == php_json_encode(expected).encode()
    assert sent.headers["sign"] == sign(sent.body, PAYMENT_KEY)  # the query is not signed
    [item] = page.items
    assert item.uuid == INVOICE["uuid"]
    assert page.next_cursor == "eyJpZCI6MTB9"
    assert page.previous_cursor is None


async def test_history_without_filters_signs_the_empty_body(heleket: ScriptedHeleket) -> None:
    heleket.then(ok({"items": [], "paginate": {"nextCursor": None, "previousCursor": "p1"}}))
    async with client_for(heleket.base_url) as client:
        page = await client.payment_history(
            date_from=datetime(2026, 3, 1, 8, 0)  # noqa: DTZ001 - naive: sent unchanged
        )
        assert page.items == []
        assert page.previous_cursor == "p1"
        await client.payment_history()

    first, second = heleket.requests
    assert first.body == b'{"date_from":"2026-03-01 08:00:00"}'
    assert second.body == b""
    assert second.query == ""
    assert second.headers["sign"] == sign(b"", PAYMENT_KEY)


async def test_resend_and_test_webhook(heleket: ScriptedHeleket) -> None:
    async with client_for(heleket.base_url) as client:
        await client.resend_webhook(order_id="tg-1")
        await client.test_webhook(
            "payout", url_callback=CALLBACK, currency="USDT", network="tron", status="paid"
        )
        await client.test_webhook(
            "payment",
            url_callback=CALLBACK,
            currency="USDT",
            network="tron",
            status="wrong_amount",
            uuid="u-1",
        )
        with pytest.raises(ValueError, match="kind"):
            await client.test_webhook(
                "bogus",  # type: ignore[arg-type]
                url_callback=CALLBACK,
                currency="USDT",
                network="tron",
                status="paid",
            )

    resend, payout, payment = heleket.requests
    assert resend.path == "/v1/payment/resend"
    assert resend.body == b'{"order_id":"tg-1"}'
    assert payout.path == "/v1/test-webhook/payout"
    assert sent_json(payout) == {
        "currency": "USDT",
        "network": "tron",
        "url_callback": CALLBACK,
        "status": "paid",
    }
    assert payment.path == "/v1/test-webhook/payment"
    assert sent_json(payment)["uuid"] == "u-1"
    for sent in heleket.requests:
        assert sent.headers["sign"] == sign(sent.body, PAYMENT_KEY)


async def test_refund_is_signed_with_the_payout_key(heleket: ScriptedHeleket) -> None:
    async with client_for(heleket.base_url) as client:
        await client.refund(address="TXaddr", is_subtract=True, uuid="u-1", amount=Decimal("5.00"))

    [sent] = heleket.requests
    assert sent.path == "/v1/payment/refund"
    expected = {"uuid": "u-1", "address": "TXaddr", "is_subtract": True, "amount": "5.00"}
    assert sent.body == php_json_encode(expected).encode()
    assert sent.headers["sign"] == sign(sent.body, PAYOUT_KEY)
    assert sent.headers["sign"] != sign(sent.body, PAYMENT_KEY)


async def test_refund_without_a_payout_key_fails_before_sending(heleket: ScriptedHeleket) -> None:
    async with client_for(heleket.base_url, payout_key=None) as client:
        with pytest.raises(GatewayError, match="payout key") as caught:
            await client.refund(address="TXaddr", is_subtract=True, order_id="o-1")
    assert heleket.requests == []
    assert_no_secret(caught.value)


async def test_uuid_or_order_id_is_required(heleket: ScriptedHeleket) -> None:
    async with client_for(heleket.base_url) as client:
        with pytest.raises(ValueError, match="uuid or order_id"):
            await client.payment_info()
        with pytest.raises(ValueError, match="uuid or order_id"):
            await client.resend_webhook()
        with pytest.raises(ValueError, match="uuid or order_id"):
            await client.refund(address="TXaddr", is_subtract=False)
    assert heleket.requests == []


# -- parsing --------------------------------------------------------------------------------


async def test_a_realistic_invoice_is_parsed_exactly(heleket: ScriptedHeleket) -> None:
    heleket.then(ok(INVOICE))
    async with client_for(heleket.base_url) as client:
        invoice = await client.payment_info(uuid=INVOICE["uuid"])

    assert heleket.requests[0].body == php_json_encode({"uuid": INVOICE["uuid"]}).encode()
    assert invoice.uuid == "26109ba0-b05b-4ee0-93d1-fd62c822ce95"
    assert invoice.order_id == "tg-100234-7f3a"
    assert invoice.amount == Decimal("10.50")
    assert str(invoice.amount) == "10.50"
    assert invoice.currency == "USD"
    assert invoice.status == "check"
    assert invoice.is_final is False
    assert invoice.url == INVOICE["url"]
    assert invoice.expired_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert invoice.expired_at.utcoffset() is not None
    assert invoice.payment_amount is None
    assert invoice.payment_amount_usd == Decimal("0.00")
    assert invoice.payer_amount == Decimal("10.62")
    assert invoice.payer_currency == "USDT"
    assert invoice.merchant_amount == Decimal("10.29")
    assert invoice.additional_data == "tg_user=123456789"
    assert invoice.raw == INVOICE


async def test_json_numbers_become_decimal_never_float(heleket: ScriptedHeleket) -> None:
    raw = (
        b'{"state":0,"result":{"uuid":"u-1","order_id":"o-1","amount":0.1,"currency":"USDT",'
        b'"payment_status":"paid","payment_amount":10,"merchant_amount":0.30000000000000004,'
        b'"expired_at":"1767225600","payer_amount":null}}'
    )
    heleket.then(Reply(raw=raw))
    async with client_for(heleket.base_url) as client:
        invoice = await client.payment_info(order_id="o-1")

    assert invoice.amount == Decimal("0.1")
    assert invoice.payment_amount == Decimal(10)
    assert invoice.merchant_amount == Decimal("0.30000000000000004")
    assert invoice.payer_amount is None
    assert isinstance(invoice.raw["amount"], Decimal)
    assert invoice.status == "paid"
    assert invoice.is_final is True  # no is_final: taken from the status table
    assert invoice.expired_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(raw=b"<html>502 Bad Gateway</html>"), "not JSON"),
        (Reply(raw=b'{"state":0,"result":'), "not JSON"),
        (Reply(raw=b"\xff\xfe"), "not JSON"),
        (Reply(raw=b'{"state":0,"result":NaN}'), "not JSON"),
        (Reply(json=[1, 2]), "not a JSON object"),
        (Reply(json={"result": INVOICE}), "no 'state'"),
        (ok({**INVOICE, "uuid": None}), "'uuid'"),
        (ok({**INVOICE, "amount": "ten"}), "'amount'"),
        (ok({**INVOICE, "payer_amount": True}), "'payer_amount'"),
        (ok({**INVOICE, "expired_at": "soon"}), "'expired_at'"),
        (ok({**INVOICE, "expired_at": "\u00b2"}), "'expired_at'"),  # isdigit(), not int()
        (ok("not an invoice"), "not a JSON object"),
    ],
)
async def test_malformed_answers_are_clear_errors_and_not_retried(
    heleket: ScriptedHeleket, reply: Reply, message: str
) -> None:
    heleket.then(reply)
    async with client_for(heleket.base_url) as client:
        with pytest.raises(HeleketBadResponse, match=message) as caught:
            await client.payment_info(order_id="o-1")
    assert isinstance(caught.value, GatewayUnavailable)
    assert len(heleket.requests) == 1
    assert_no_secret(caught.value, heleket.requests[0].headers["sign"])


# -- errors, retries, circuit breaker -------------------------------------------------------


async def test_5xx_is_retried_with_the_same_signed_body(heleket: ScriptedHeleket) -> None:
    heleket.then(Reply(503), Reply(502, raw=b"Bad Gateway"), ok(INVOICE))
    async with client_for(heleket.base_url) as client:
        invoice = await client.payment_info(order_id="tg-100234-7f3a")

    assert invoice.uuid == INVOICE["uuid"]
    assert len(heleket.requests) == 3
    assert len({(sent.body, sent.headers["sign"]) for sent in heleket.requests}) == 1


async def test_5xx_until_the_retries_run_out_is_unavailable(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(500, {"state": 1, "message": f"boom {PAYMENT_KEY}"})
    async with client_for(heleket.base_url) as client:
        with pytest.raises(GatewayUnavailable, match=r"HTTP 500 \(after 3 attempt") as caught:
            await client.create_invoice(InvoiceRequest("o-1", Decimal("1.00"), "USDT", CALLBACK))
    assert len(heleket.requests) == 3
    assert_no_secret(caught.value, heleket.requests[0].headers["sign"])


async def test_timeouts_are_retried(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(delay=0.5)
    async with client_for(heleket.base_url, timeout=0.1) as client:
        with pytest.raises(GatewayUnavailable, match="ReadTimeout") as caught:
            await client.payment_info(uuid="u-1")
    assert len(heleket.requests) == 3
    assert_no_secret(caught.value, heleket.requests[0].headers["sign"])


async def test_connection_refused_is_retried() -> None:
    attempts: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        attempts.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [count]}) as http:
        client = client_for(f"http://127.0.0.1:{free_port()}", http_client=http)
        with pytest.raises(GatewayUnavailable, match="cannot connect") as caught:
            await client.services()
        assert len(attempts) == 3
        assert_no_secret(caught.value, attempts[0].headers["sign"])
        # The request never left, so even a refund is retried.
        attempts.clear()
        with pytest.raises(GatewayUnavailable, match="cannot connect"):
            await client.refund(address="TXaddr", is_subtract=True, uuid="u-1")
        assert len(attempts) == 3
        await client.aclose()
        assert not http.is_closed  # an injected client belongs to the caller


@pytest.mark.parametrize("reply", [Reply(503), Reply(delay=0.5)], ids=["503", "timeout"])
async def test_a_refund_that_may_have_happened_is_not_retried(
    heleket: ScriptedHeleket, reply: Reply
) -> None:
    heleket.default = reply
    async with client_for(heleket.base_url, timeout=0.1) as client:
        with pytest.raises(GatewayUnavailable, match=r"after 1 attempt"):
            await client.refund(address="TXaddr", is_subtract=True, uuid="u-1")
    assert len(heleket.requests) == 1


async def test_422_is_rejected_with_its_errors_and_not_retried(heleket: ScriptedHeleket) -> None:
    errors = {
        "uuid": ["validation.required_without"],
        "order_id": ["validation.required_without"],
    }
    heleket.default = Reply(422, {"state": 1, "errors": errors})
    async with client_for(heleket.base_url) as client:
        with pytest.raises(GatewayRejected, match=r"validation\.required_without") as caught:
            await client.resend_webhook(uuid="u-1")
    assert caught.value.errors == errors
    assert len(heleket.requests) == 1


async def test_401_is_unauthorized_and_not_retried(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(401, {"state": 1, "message": "Invalid Sign."})
    async with client_for(heleket.base_url) as client:
        with pytest.raises(GatewayUnauthorized, match=r"Invalid Sign\.") as caught:
            await client.services()
    assert len(heleket.requests) == 1
    assert_no_secret(caught.value, heleket.requests[0].headers["sign"])


async def test_state_1_is_a_rejection(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(200, {"state": 1, "message": "Payment not found"})
    async with client_for(heleket.base_url) as client:
        with pytest.raises(GatewayRejected, match="Payment not found") as caught:
            await client.payment_info(uuid="u-404")
    assert not isinstance(caught.value, GatewayUnauthorized)
    assert caught.value.errors == {}
    assert len(heleket.requests) == 1


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply(404, raw=b"<html>Not Found</html>"), GatewayRejected, "HTTP 404"),
        (Reply(403, {"state": 1, "message": "You are forbidden"}), GatewayRejected, "forbidden"),
        (Reply(429, raw=b"slow down"), GatewayUnavailable, "rate limited"),
        (Reply(302, raw=b""), GatewayError, "unexpected HTTP 302"),
    ],
)
async def test_other_statuses_are_not_retried(
    heleket: ScriptedHeleket, reply: Reply, error: type[GatewayError], message: str
) -> None:
    heleket.default = reply
    async with client_for(heleket.base_url) as client:
        with pytest.raises(error, match=message):
            await client.payment_info(uuid="u-1")
    assert len(heleket.requests) == 1


def _echo_secrets(recorded: Recorded) -> Reply:
    leak = f"{recorded.headers['sign']} {PAYMENT_KEY} {PAYOUT_KEY}"
    if recorded.path.endswith("/refund"):
        return Reply(422, {"state": 1, "message": leak, "errors": {leak: [leak]}})
    return Reply(401, {"state": 1, "message": f"Invalid Sign. {leak}"})


async def test_error_messages_never_carry_keys_or_signs(heleket: ScriptedHeleket) -> None:
    heleket.default = _echo_secrets
    async with client_for(heleket.base_url) as client:
        with pytest.raises(GatewayUnauthorized, match="Invalid Sign") as unauthorized:
            await client.services()
        with pytest.raises(GatewayRejected) as rejected:
            await client.refund(address="TXaddr", is_subtract=True, uuid="u-1")
    signs = [sent.headers["sign"] for sent in heleket.requests]
    assert "***" in str(unauthorized.value)
    assert_no_secret(unauthorized.value, *signs)
    assert_no_secret(rejected.value, *signs)
    for name, rules in rejected.value.errors.items():
        assert_no_secret(GatewayError(name, *rules), *signs)
    assert PAYMENT_KEY not in repr(client)


async def test_the_breaker_opens_fails_fast_and_recovers(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(503)
    client = client_for(
        heleket.base_url, retry_attempts=1, breaker_threshold=3, breaker_cooldown=0.3
    )
    async with client:
        for _ in range(3):
            with pytest.raises(GatewayUnavailable, match="HTTP 503"):
                await client.services()
        assert client.breaker.state == "open"
        with pytest.raises(GatewayUnavailable, match="circuit breaker is open"):
            await client.services()
        assert len(heleket.requests) == 3  # the open breaker sent nothing

        heleket.default = ok([])
        await asyncio.sleep(0.35)
        assert client.breaker.state == "half_open"
        assert await client.services() == []
        assert client.breaker.state == "closed"
        assert len(heleket.requests) == 4


async def test_a_failed_trial_reopens_the_breaker(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(delay=0.5)
    client = client_for(
        heleket.base_url,
        timeout=0.1,
        retry_attempts=1,
        breaker=CircuitBreaker(threshold=2, cooldown=0.3),
    )
    async with client:
        for _ in range(2):
            with pytest.raises(GatewayUnavailable, match="ReadTimeout"):
                await client.services()
        await asyncio.sleep(0.35)
        with pytest.raises(GatewayUnavailable, match="ReadTimeout"):
            await client.services()  # the trial call
        assert client.breaker.state == "open"
        with pytest.raises(GatewayUnavailable, match="circuit breaker is open"):
            await client.services()
    assert len(heleket.requests) == 3


async def test_the_breaker_can_open_between_retries(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(503)
    async with client_for(heleket.base_url, retry_attempts=3, breaker_threshold=2) as client:
        with pytest.raises(GatewayUnavailable, match="circuit breaker is open"):
            await client.services()
    assert len(heleket.requests) == 2


async def test_4xx_answers_do_not_trip_the_breaker(heleket: ScriptedHeleket) -> None:
    heleket.default = Reply(422, {"state": 1, "errors": {"uuid": ["validation.uuid"]}})
    async with client_for(heleket.base_url, breaker_threshold=2) as client:
        for _ in range(4):
            with pytest.raises(GatewayRejected):
                await client.payment_info(uuid="bad")
        assert client.breaker.state == "closed"
    assert len(heleket.requests) == 4


# -- construction ---------------------------------------------------------------------------


def heleket_settings(**values: Any) -> Settings:
    fields: dict[str, Any] = {
        "heleket_merchant_id": None,
        "heleket_api_key": None,
        "heleket_payout_key": None,
    }
    fields.update(values)
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def test_from_settings_refuses_missing_or_placeholder_secrets() -> None:
    with pytest.raises(MissingSecret, match="HELEKET_MERCHANT_ID"):
        HeleketClient.from_settings(heleket_settings(heleket_api_key=PAYMENT_KEY))
    with pytest.raises(MissingSecret, match="HELEKET_API_KEY"):
        HeleketClient.from_settings(
            heleket_settings(heleket_merchant_id=MERCHANT, heleket_api_key="changeme")
        )


async def test_from_settings_builds_a_working_client(heleket: ScriptedHeleket) -> None:
    settings = heleket_settings(
        heleket_merchant_id=MERCHANT,
        heleket_api_key=PAYMENT_KEY,
        heleket_payout_key="changeme",
        heleket_api_url=heleket.base_url + "/",
    )
    heleket.then(ok(SERVICES))
    async with HeleketClient.from_settings(settings, retry_attempts=1) as client:
        assert len(await client.services()) == 1
        with pytest.raises(GatewayError, match="payout key"):  # a placeholder is no key
            await client.refund(address="TXaddr", is_subtract=True, uuid="u-1")
    [sent] = heleket.requests
    assert sent.path == "/v1/payment/services"
    assert sent.headers["merchant"] == MERCHANT
    assert sent.headers["sign"] == sign(b"", PAYMENT_KEY)


async def test_a_closed_client_sends_nothing(heleket: ScriptedHeleket) -> None:
    client = client_for(heleket.base_url)
    async with client:
        pass
    with pytest.raises(RuntimeError):
        await client.services()
    assert heleket.requests == []
    assert client.breaker.state == "closed"
