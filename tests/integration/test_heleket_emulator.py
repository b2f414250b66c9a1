"""The Heleket emulator over real HTTP: signed API calls, statuses, signed webhooks with
retries, refunds, history, the hosted page and the control API."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from shopbot.adapters.heleket.signature import InvalidSignature, sign, verify_webhook
from shopbot.http.serve import free_port, serve
from shopbot.sandbox.heleket import EmulatorConfig, ManualClock, create_app

MERCHANT, PAY_KEY, PAYOUT_KEY = "merchant-1", "payment-key-1", "payout-key-1"
OTHER, OTHER_KEY = "merchant-2", "payment-key-2"
WEBHOOK_FIELDS = [
    "type",
    "uuid",
    "order_id",
    "amount",
    "payment_amount",
    "payment_amount_usd",
    "merchant_amount",
    "commission",
    "is_final",
    "status",
    "from",
    "wallet_address_uuid",
    "network",
    "currency",
    "payer_currency",
    "payer_amount",
    "additional_data",
    "txid",
    "sign",
]


class Receiver:
    """A merchant webhook endpoint recording raw bodies; answers 500 `fail_next` times."""

    def __init__(self) -> None:
        self.received: list[bytes] = []  # 2xx-answered bodies, in arrival order
        self.attempts: list[bytes] = []
        self.fail_next = 0
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.attempts.append(body)
            assert request.headers["content-type"] == "application/json"
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response("boom", status_code=500)
            self.received.append(body)
            return Response("OK")


@dataclass
class Env:
    http: httpx.AsyncClient
    base_url: str
    hook_url: str
    receiver: Receiver
    clock: ManualClock
    app: FastAPI
    orders: list[str] = field(default_factory=list)

    async def call(
        self,
        path: str,
        payload: Any = None,
        *,
        key: str = PAY_KEY,
        merchant: str = MERCHANT,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"merchant": merchant, "sign": sign(body, key)}
        headers["Content-Type"] = "application/json"
        return await self.http.post(path, content=body, headers=headers, params=params)

    async def create(self, order_id: str, amount: str = "10.50", **extra: Any) -> dict[str, Any]:
        payload = {
            "amount": amount,
            "currency": "USD",
            "order_id": order_id,
            "url_callback": self.hook_url,
            **extra,
        }
        response = await self.call("/v1/payment", payload)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == 0
        return response.json()["result"]

    async def info(self, **lookup: str) -> dict[str, Any]:
        response = await self.call("/v1/payment/info", lookup)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    async def control(self, path: str, payload: Any = None) -> httpx.Response:
        return await self.http.post(f"/sandbox{path}", json=payload or {})

    async def settle(self) -> None:
        response = await self.http.get("/sandbox/settle", params={"timeout": "10"})
        assert response.json() == {"settled": True, "pending": 0}

    def hooks(self, uuid: str) -> list[dict[str, Any]]:
        """Webhooks the receiver accepted for `uuid`, in order, each verified with the key
        its type calls for (payout webhooks: the payout key)."""
        found = []
        for raw in self.receiver.received:
            key = PAYOUT_KEY if json.loads(raw)["type"] == "payout" else PAY_KEY
            found.append(verify_webhook(raw, key))
        return [h for h in found if h["uuid"] == uuid]


@asynccontextmanager
async def emulator(**options: Any) -> AsyncIterator[Env]:
    clock = ManualClock()
    receiver = Receiver()
    port = free_port()
    config = EmulatorConfig(
        merchants={MERCHANT: (PAY_KEY, PAYOUT_KEY), OTHER: (OTHER_KEY, "payout-key-2")},
        rates={"USD": {"USDT": "1"}},
        public_url=f"http://127.0.0.1:{port}",
        clock=clock,
        **{
            "webhook_attempts": 8,
            "webhook_base_delay": 0.05,
            "expiry_check_interval": None,
            **options,
        },
    )
    app = create_app(config)
    async with (
        serve(app, port=port) as base_url,
        serve(receiver.app) as receiver_url,
        httpx.AsyncClient(base_url=base_url, timeout=15) as http,
    ):
        yield Env(http, base_url, f"{receiver_url}/hook", receiver, clock, app)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with emulator() as running:
        yield running


# --- authentication and validation -------------------------------------------------------


async def test_bad_signature_or_unknown_merchant_is_401(env: Env) -> None:
    payload = {"amount": "1", "currency": "USD", "order_id": "o-1"}
    calls = [
        await env.call("/v1/payment", payload, key="wrong"),
        await env.call("/v1/payment", payload, merchant="nobody"),
        await env.call("/v1/payment", payload, key=OTHER_KEY),  # another merchant's key
        await env.call("/v1/payment/refund", {"uuid": "x"}, key=PAY_KEY),  # needs payout key
        await env.http.post("/v1/payment", json=payload),  # no headers at all
    ]
    body = json.dumps(payload).encode()
    tampered = await env.http.post(
        "/v1/payment",
        content=body.replace(b'"1"', b'"2"'),
        headers={"merchant": MERCHANT, "sign": sign(body, PAY_KEY)},
    )
    for response in [*calls, tampered]:
        assert response.status_code == 401
        assert response.json() == {"state": 1, "message": "Invalid Sign."}


async def test_signature_covers_raw_bytes_whatever_the_json_style(env: Env) -> None:
    body = b'{ "amount" : "3", "currency": "USD", "order_id": "spaced-json" }'
    headers = {"merchant": MERCHANT, "sign": sign(body, PAY_KEY)}
    response = await env.http.post("/v1/payment", content=body, headers=headers)
    assert response.json()["state"] == 0
    # no body at all: the signature of the empty string
    services = await env.http.post(
        "/v1/payment/services", headers={"merchant": MERCHANT, "sign": sign(b"", PAY_KEY)}
    )
    assert services.json()["state"] == 0
    assert {"network": "tron", "currency": "USDT", "is_available": True}.items() <= services.json()[
        "result"
    ][0].items()


async def test_validation_errors_are_422_with_laravel_rule_names(env: Env) -> None:
    empty = await env.call("/v1/payment", {})
    assert empty.status_code == 422
    assert empty.json() == {
        "state": 1,
        "errors": {
            "amount": ["validation.required"],
            "currency": ["validation.required"],
            "order_id": ["validation.required"],
        },
    }
    bad = await env.call(
        "/v1/payment",
        {
            "amount": "ten",
            "currency": "USD",
            "order_id": "has space!",
            "url_callback": "not a url",
            "lifetime": 100,
            "is_payment_multiple": "yes",
            "additional_data": "x" * 256,
            "accuracy_payment_percent": "7",
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "amount": ["validation.numeric"],
        "order_id": ["validation.alpha_dash"],
        "url_callback": ["validation.url"],
        "is_payment_multiple": ["validation.boolean"],
        "lifetime": ["validation.min.numeric"],
        "accuracy_payment_percent": ["validation.max.numeric"],
        "additional_data": ["validation.max.string"],
    }
    more = await env.call(
        "/v1/payment",
        {
            "amount": "0",
            "currency": "USD",
            "order_id": "a" * 129,
            "lifetime": "50000",
            "url_callback": "http://" + "a" * 250 + ".io",
        },
    )
    assert more.json()["errors"] == {
        "amount": ["validation.gt.numeric"],
        "order_id": ["validation.max.string"],
        "url_callback": ["validation.max.string"],
        "lifetime": ["validation.max.numeric"],
    }
    lookup = await env.call("/v1/payment/info", {})
    assert lookup.status_code == 422
    assert lookup.json()["errors"] == {
        "uuid": ["validation.required_without"],
        "order_id": ["validation.required_without"],
    }
    not_uuid = await env.call("/v1/payment/info", {"uuid": "123"})
    assert not_uuid.json()["errors"] == {"uuid": ["validation.uuid"]}


# --- invoices ----------------------------------------------------------------------------


async def test_create_returns_the_invoice_and_recreate_is_idempotent(env: Env) -> None:
    response = await env.call(
        "/v1/payment",
        {
            "amount": "10.5",
            "currency": "USD",
            "order_id": "order-1",
            "lifetime": 900,
            "url_callback": env.hook_url,
            "additional_data": "user/42",
        },
    )
    assert b'"url":"http:\\/\\/127.0.0.1' in response.content  # Laravel JSON escapes `/`
    invoice = response.json()["result"]
    assert invoice["order_id"] == "order-1"
    assert (invoice["amount"], invoice["currency"]) == ("10.50", "USD")
    assert (invoice["payer_amount"], invoice["payer_currency"]) == ("10.50", "USDT")
    assert invoice["status"] == invoice["payment_status"] == "check"
    assert invoice["is_final"] is False
    assert invoice["url"] == f"{env.base_url}/pay/{invoice['uuid']}"
    assert invoice["expired_at"] == int((env.clock.now + timedelta(seconds=900)).timestamp())
    assert invoice["created_at"].endswith("+03:00")
    assert invoice["additional_data"] == "user/42"
    assert invoice["network"] == "tron"
    assert re.fullmatch(r"[0-9a-f-]{36}", invoice["uuid"])

    again = await env.create("order-1", amount="99")
    assert again["uuid"] == invoice["uuid"]
    assert again["amount"] == "10.50"
    assert len(env.app.state.emulator.store.by_uuid) == 1

    crypto = await env.create("order-2", amount="0.5", to_currency="USDT")
    assert (crypto["payer_amount"], crypto["payer_currency"]) == ("0.50", "USDT")
    assert crypto["uuid"] != invoice["uuid"]


async def test_info_by_uuid_or_order_id_and_order_id_wins(env: Env) -> None:
    first = await env.create("info-1")
    second = await env.create("info-2")
    assert (await env.info(uuid=first["uuid"]))["order_id"] == "info-1"
    assert (await env.info(order_id="info-2"))["uuid"] == second["uuid"]
    both = await env.info(uuid=first["uuid"], order_id="info-2")
    assert both["uuid"] == second["uuid"]
    missing = await env.call("/v1/payment/info", {"order_id": "nope"})
    assert missing.json() == {"state": 1, "message": "Payment not found"}
    foreign = await env.call(
        "/v1/payment/info", {"uuid": first["uuid"]}, merchant=OTHER, key=OTHER_KEY
    )
    assert foreign.json()["message"] == "Payment not found"


# --- payments and webhooks ---------------------------------------------------------------


async def test_pay_exactly_sends_check_then_paid_signed_php_style(env: Env) -> None:
    invoice = await env.create("pay-1", additional_data="tg/user/42")
    paid = await env.control(f"/invoices/{invoice['uuid']}/pay")
    assert paid.status_code == 200
    assert paid.json()["invoice"]["status"] == "paid"
    await env.settle()

    assert len(env.receiver.received) == 2
    for raw in env.receiver.received:
        assert b"tg\\/user\\/42" in raw  # PHP escapes slashes
        assert re.search(rb',"sign":"[0-9a-f]{32}"}$', raw)
        assert list(json.loads(raw)) == WEBHOOK_FIELDS
        with pytest.raises(InvalidSignature):
            verify_webhook(raw, PAYOUT_KEY)
    check, final = env.hooks(invoice["uuid"])
    assert (check["status"], check["is_final"]) == ("check", False)
    assert (final["status"], final["is_final"]) == ("paid", True)
    assert final["payment_amount"] == final["payer_amount"] == "10.50"
    assert final["payment_amount_usd"] == "10.50"
    assert (final["commission"], final["merchant_amount"]) == ("0.21", "10.29")
    assert final["additional_data"] == "tg/user/42"
    assert final["txid"]
    assert final["from"]
    assert final["network"] == "tron"
    info = await env.info(uuid=invoice["uuid"])
    assert (info["status"], info["is_final"], info["payment_amount"]) == ("paid", True, "10.50")
    again = await env.control(f"/invoices/{invoice['uuid']}/pay")
    assert again.status_code == 409


async def test_underpay_without_multiple_payments_is_wrong_amount(env: Env) -> None:
    invoice = await env.create("under-1", is_payment_multiple=False)
    await env.control(f"/invoices/{invoice['uuid']}/pay", {"amount": "4"})
    await env.settle()
    statuses = [(h["status"], h["is_final"]) for h in env.hooks(invoice["uuid"])]
    assert statuses == [("check", False), ("wrong_amount", True)]
    assert env.hooks(invoice["uuid"])[-1]["payment_amount"] == "4.00"


async def test_overpay_is_paid_over(env: Env) -> None:
    invoice = await env.create("over-1", amount="10")
    await env.control(f"/invoices/{invoice['uuid']}/pay", {"amount": "12.5"})
    await env.settle()
    final = env.hooks(invoice["uuid"])[-1]
    assert (final["status"], final["is_final"]) == ("paid_over", True)
    assert float(final["payment_amount"]) > float(final["amount"])
    assert final["payment_amount"] == "12.50"


async def test_multiple_payments_complete_or_end_as_wrong_amount(env: Env) -> None:
    topped = await env.create("multi-1", amount="10")
    await env.control(f"/invoices/{topped['uuid']}/pay", {"amount": "4"})
    snapshot = (await env.http.get(f"/sandbox/invoices/{topped['uuid']}")).json()
    assert snapshot["invoice"]["status"] == "wrong_amount_waiting"
    assert snapshot["remaining"] == "6.00"
    await env.control(f"/invoices/{topped['uuid']}/pay")  # the rest
    await env.settle()
    statuses = [(h["status"], h["payment_amount"]) for h in env.hooks(topped["uuid"])]
    assert statuses == [
        ("check", "4.00"),
        ("wrong_amount_waiting", "4.00"),
        ("check", "10.00"),
        ("paid", "10.00"),
    ]

    abandoned = await env.create("multi-2", amount="10")
    await env.control(f"/invoices/{abandoned['uuid']}/pay", {"amount": "3"})
    env.clock.advance(3601)
    info = await env.info(uuid=abandoned["uuid"])
    assert (info["status"], info["is_final"]) == ("wrong_amount", True)
    await env.settle()
    assert [h["status"] for h in env.hooks(abandoned["uuid"])][-1] == "wrong_amount"


async def test_expiry_cancels_an_unpaid_invoice(env: Env) -> None:
    invoice = await env.create("exp-1", lifetime=300)
    env.clock.advance(299)
    assert (await env.info(uuid=invoice["uuid"]))["status"] == "check"
    env.clock.advance(1)
    info = await env.info(uuid=invoice["uuid"])
    assert (info["status"], info["is_final"]) == ("cancel", True)
    await env.settle()
    [hook] = env.hooks(invoice["uuid"])
    assert (hook["status"], hook["is_final"], hook["payment_amount"]) == ("cancel", True, "0.00")
    late = await env.control(f"/invoices/{invoice['uuid']}/pay")
    assert late.status_code == 409

    forced = await env.create("exp-2")
    expired = await env.control(f"/invoices/{forced['uuid']}/expire")
    assert expired.json()["invoice"]["status"] == "cancel"


async def test_background_sweeper_expires_without_any_request() -> None:
    async with emulator(expiry_check_interval=0.02) as env:
        invoice = await env.create("sweep-1", lifetime=300)
        env.clock.advance(301)
        for _ in range(200):
            if env.receiver.received:
                break
            await asyncio.sleep(0.01)
        assert [h["status"] for h in env.hooks(invoice["uuid"])] == ["cancel"]


async def test_failed_deliveries_are_retried_in_order_and_recorded(env: Env) -> None:
    env.receiver.fail_next = 2
    invoice = await env.create("retry-1")
    await env.control(f"/invoices/{invoice['uuid']}/pay")
    await env.settle()
    assert len(env.receiver.attempts) == 4
    assert [h["status"] for h in env.hooks(invoice["uuid"])] == ["check", "paid"]
    deliveries = (
        await env.http.get("/sandbox/deliveries", params={"uuid": invoice["uuid"]})
    ).json()
    summary = [(d["status"], d["attempt"], d["status_code"], d["ok"]) for d in deliveries]
    assert summary == [
        ("check", 1, 500, False),
        ("check", 2, 500, False),
        ("check", 3, 200, True),
        ("paid", 1, 200, True),
    ]
    assert deliveries[0]["url"] == env.hook_url
    assert deliveries[0]["body"].encode() == env.receiver.attempts[0]
    assert all(d["at"] for d in deliveries)


async def test_unreachable_receiver_is_retried_then_given_up() -> None:
    async with emulator(webhook_attempts=3, webhook_base_delay=0.01) as env:
        dead = f"http://127.0.0.1:{free_port()}/hook"
        response = await env.call(
            "/v1/payment",
            {"amount": "1", "currency": "USD", "order_id": "dead-1", "url_callback": dead},
        )
        uuid = response.json()["result"]["uuid"]
        await env.control(f"/invoices/{uuid}/pay")
        await env.settle()
        deliveries = (await env.http.get("/sandbox/deliveries")).json()
        assert [(d["status"], d["attempt"]) for d in deliveries] == [
            ("check", 1),
            ("check", 2),
            ("check", 3),
            ("paid", 1),
            ("paid", 2),
            ("paid", 3),
        ]
        assert all(d["error"] and d["status_code"] is None for d in deliveries)
        assert [d.get("gave_up", False) for d in deliveries] == [False, False, True] * 2


async def test_lost_webhooks_change_status_but_send_nothing(env: Env) -> None:
    invoice = await env.create("lost-1")
    paid = await env.control(f"/invoices/{invoice['uuid']}/pay", {"deliver": False})
    assert [w["sent"] for w in paid.json()["webhooks"]] == [False, False]
    await env.settle()
    assert env.receiver.attempts == []
    assert (await env.info(uuid=invoice["uuid"]))["status"] == "paid"
    # the merchant recovers it with resend
    assert (await env.call("/v1/payment/resend", {"uuid": invoice["uuid"]})).json() == {
        "state": 0,
        "result": [],
    }
    await env.settle()
    assert [h["status"] for h in env.hooks(invoice["uuid"])] == ["paid"]

    paused = await env.control("/webhooks", {"paused": True})
    assert paused.json()["paused"] is True
    other = await env.create("lost-2")
    await env.control(f"/invoices/{other['uuid']}/pay")
    await env.control("/webhooks", {"paused": False})
    await env.settle()
    assert env.hooks(other["uuid"]) == []
    assert (await env.info(uuid=other["uuid"]))["status"] == "paid"


async def test_refund_needs_the_payout_key_and_reports_as_payment_statuses(env: Env) -> None:
    invoice = await env.create("refund-1")
    await env.control(f"/invoices/{invoice['uuid']}/pay")
    await env.settle()
    request = {"uuid": invoice["uuid"], "address": "TAddr", "is_subtract": True}
    with_payment_key = await env.call("/v1/payment/refund", request)
    assert with_payment_key.status_code == 401
    assert with_payment_key.json()["message"] == "Invalid Sign."
    invalid = await env.call("/v1/payment/refund", {"uuid": invoice["uuid"]}, key=PAYOUT_KEY)
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == {
        "address": ["validation.required"],
        "is_subtract": ["validation.required"],
    }
    response = await env.call(
        "/v1/payment/refund", {**request, "order_id": "no-such-order"}, key=PAYOUT_KEY
    )  # uuid wins over order_id
    assert response.json() == {"state": 0, "result": []}
    await env.settle()
    # SPEC §2.6: refunds show up as payment statuses, so as payment webhooks.
    refunds = [b for b in env.receiver.received if b'"status":"refund_' in b]
    assert len(refunds) == 2
    for raw in refunds:
        with pytest.raises(InvalidSignature):
            verify_webhook(raw, PAYOUT_KEY)
    hooks = [verify_webhook(raw, PAY_KEY) for raw in refunds]
    assert {h["type"] for h in hooks} == {"payment"}
    assert [(h["status"], h["is_final"]) for h in hooks] == [
        ("refund_process", False),
        ("refund_paid", True),
    ]
    assert hooks[-1]["amount"] == "10.50"
    assert (await env.info(uuid=invoice["uuid"]))["status"] == "refund_paid"
    twice = await env.call("/v1/payment/refund", request, key=PAYOUT_KEY)
    assert twice.json()["state"] == 1

    failing = await env.create("refund-2")
    await env.control(f"/invoices/{failing['uuid']}/pay")
    await env.control(f"/invoices/{failing['uuid']}/refund-outcome", {"outcome": "fail"})
    await env.call(
        "/v1/payment/refund",
        {"order_id": "refund-2", "address": "TAddr", "is_subtract": False, "amount": "5"},
        key=PAYOUT_KEY,
    )
    await env.settle()
    statuses = [h["status"] for h in env.hooks(failing["uuid"])]
    assert statuses[-2:] == ["refund_process", "refund_fail"]

    held = await env.create("refund-3")
    await env.control(f"/invoices/{held['uuid']}/pay")
    await env.control(f"/invoices/{held['uuid']}/refund-outcome", {"outcome": "hold"})
    hold_request = {"uuid": held["uuid"], "address": "T", "is_subtract": True}
    await env.call("/v1/payment/refund", hold_request, key=PAYOUT_KEY)
    assert (await env.info(uuid=held["uuid"]))["status"] == "refund_process"
    await env.control(f"/invoices/{held['uuid']}/refund-outcome", {"outcome": "paid"})
    assert (await env.info(uuid=held["uuid"]))["status"] == "refund_paid"

    unpaid = await env.create("refund-4")
    refused = await env.call(
        "/v1/payment/refund",
        {"uuid": unpaid["uuid"], "address": "T", "is_subtract": True},
        key=PAYOUT_KEY,
    )
    assert refused.json()["state"] == 1


async def test_history_is_cursor_paginated_and_filtered(env: Env) -> None:
    uuids = [(await env.create(f"hist-{n:02d}"))["uuid"] for n in range(20)]
    first = (await env.call("/v1/payment/list")).json()["result"]
    assert first["paginate"]["count"] == 15
    assert first["paginate"]["perPage"] == 15
    assert first["paginate"]["hasPages"] is True
    assert first["paginate"]["previousCursor"] is None
    assert [i["uuid"] for i in first["items"]] == uuids[::-1][:15]  # newest first

    cursor = first["paginate"]["nextCursor"]
    second = (await env.call("/v1/payment/list", params={"cursor": cursor})).json()["result"]
    assert [i["uuid"] for i in second["items"]] == uuids[::-1][15:]
    assert second["paginate"]["nextCursor"] is None
    back_cursor = second["paginate"]["previousCursor"]
    back = (await env.call("/v1/payment/list", {}, params={"cursor": back_cursor})).json()
    assert back["result"]["items"] == first["items"]

    later = (env.clock.now + timedelta(hours=4)).strftime("%Y-%m-%d %H:%M:%S")
    none = await env.call("/v1/payment/list", {"date_from": later})
    assert none.json()["result"]["items"] == []
    everything = await env.call("/v1/payment/list", {"date_to": later})
    assert everything.json()["result"]["paginate"]["count"] == 15
    bad = await env.call("/v1/payment/list", {"date_from": "yesterday"})
    assert bad.json()["errors"] == {"date_from": ["validation.date_format"]}
    foreign = await env.call("/v1/payment/list", merchant=OTHER, key=OTHER_KEY)
    assert foreign.json()["result"]["items"] == []


async def test_resend_only_for_final_paid_invoices_with_a_callback(env: Env) -> None:
    missing = await env.call("/v1/payment/resend", {"order_id": "ghost"})
    assert missing.json() == {"state": 1, "message": "Payment not found"}
    pending = await env.create("resend-1")
    refused = await env.call("/v1/payment/resend", {"uuid": pending["uuid"]})
    assert refused.json()["state"] == 1
    assert refused.json()["message"]
    await env.control(f"/invoices/{pending['uuid']}/pay")
    await env.settle()
    original = env.receiver.received[-1]
    assert (await env.call("/v1/payment/resend", {"order_id": "resend-1"})).json()["state"] == 0
    await env.settle()
    assert env.receiver.received[-1] == original

    silent = await env.call(
        "/v1/payment", {"amount": "1", "currency": "USD", "order_id": "resend-2"}
    )  # no url_callback
    uuid = silent.json()["result"]["uuid"]
    await env.control(f"/invoices/{uuid}/pay")
    assert (await env.call("/v1/payment/resend", {"uuid": uuid})).json()["state"] == 1
    cancelled = await env.create("resend-3")
    await env.control(f"/invoices/{cancelled['uuid']}/expire")
    assert (await env.call("/v1/payment/resend", {"uuid": cancelled["uuid"]})).json()["state"] == 1


async def test_test_webhook_sends_signed_synthetic_webhooks_and_stores_nothing(env: Env) -> None:
    request = {
        "url_callback": env.hook_url,
        "currency": "USDT",
        "network": "tron",
        "order_id": "test-order",
        "status": "paid",
    }
    for kind in ("payment", "wallet", "payout"):
        response = await env.call(f"/v1/test-webhook/{kind}", request)
        assert response.json() == {"state": 0, "result": []}
    await env.settle()
    hooks = [verify_webhook(raw, PAY_KEY) for raw in env.receiver.received]
    assert sorted(h["type"] for h in hooks) == ["payment", "payout", "wallet"]
    assert {(h["order_id"], h["status"], h["is_final"]) for h in hooks} == {
        ("test-order", "paid", True)
    }
    assert env.app.state.emulator.store.by_uuid == {}
    invalid = await env.call("/v1/test-webhook/payment", {"order_id": "x" * 33})
    assert invalid.json()["errors"] == {
        "url_callback": ["validation.required"],
        "currency": ["validation.required"],
        "network": ["validation.required"],
        "order_id": ["validation.max.string"],
    }
    assert (await env.call("/v1/test-webhook/other", request)).status_code == 404


# --- the hosted page -----------------------------------------------------------------------


async def test_hosted_page_renders_and_its_buttons_drive_the_invoice(env: Env) -> None:
    invoice = await env.create("page-1", amount="10")
    page = await env.http.get(f"/pay/{invoice['uuid']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in (
        "10.00 USD",
        "10.00 USDT",
        "check",
        "Pay exactly",
        "Underpay",
        "Overpay",
        "Let it expire",
        invoice["uuid"],
    ):
        assert text in html
    assert "http" not in html.replace(env.hook_url, "")  # no external assets

    async def press(uuid: str, action: str) -> None:
        response = await env.http.post(
            f"/pay/{uuid}",
            content=urlencode({"action": action}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/pay/{uuid}")

    await press(invoice["uuid"], "under")
    assert (await env.info(uuid=invoice["uuid"]))["status"] == "wrong_amount_waiting"
    await press(invoice["uuid"], "exact")
    await env.settle()
    statuses = [h["status"] for h in env.hooks(invoice["uuid"])]
    assert statuses == ["check", "wrong_amount_waiting", "check", "paid"]
    after = await env.http.get(f"/pay/{invoice['uuid']}")
    assert "paid" in after.text
    assert "Pay exactly" not in after.text

    over = await env.create("page-2", amount="10")
    await press(over["uuid"], "over")
    assert (await env.info(uuid=over["uuid"]))["status"] == "paid_over"
    gone = await env.create("page-3")
    await press(gone["uuid"], "expire")
    assert (await env.info(uuid=gone["uuid"]))["status"] == "cancel"
    assert (await env.http.get("/pay/no-such-invoice")).status_code == 404
    assert "page-1" in (await env.http.get("/")).text


async def test_control_api_reports_unknown_invoices_and_bad_bodies(env: Env) -> None:
    assert (await env.control("/invoices/nope/pay")).status_code == 404
    invoice = await env.create("ctl-1")
    bad = await env.control(f"/invoices/{invoice['uuid']}/pay", {"amount": "-1"})
    assert bad.status_code == 400
    outcome = await env.control(f"/invoices/{invoice['uuid']}/refund-outcome", {"outcome": "x"})
    assert outcome.status_code == 409
    advanced = await env.control("/clock/advance", {"seconds": 3600})
    assert advanced.status_code == 200
    snapshot = (await env.http.get(f"/sandbox/invoices/{invoice['uuid']}")).json()
    assert snapshot["invoice"]["status"] == "cancel"
    assert snapshot["webhooks"][0]["status"] == "cancel"


async def test_shutdown_cancels_pending_deliveries() -> None:
    async with emulator(webhook_attempts=5, webhook_base_delay=30) as env:
        env.receiver.fail_next = 100
        invoice = await env.create("shutdown-1")
        await env.control(f"/invoices/{invoice['uuid']}/pay")
        for _ in range(200):
            if env.receiver.attempts:
                break
            await asyncio.sleep(0.01)
        webhooks = env.app.state.emulator.webhooks
        assert webhooks.pending == 2
        exit_started = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - exit_started < 5
    assert webhooks.pending == 0
    assert len(env.receiver.attempts) == 1
