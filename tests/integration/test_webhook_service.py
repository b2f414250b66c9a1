"""The webhook service over real HTTP on real PostgreSQL: who may deliver, what a bad
body does (nothing), exactly-once crediting under concurrent deliveries, health."""

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from shopbot.adapters.heleket import signature
from shopbot.domain.ledger import user_account
from shopbot.persistence.models import PaymentEventRow
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.webhook.routes import heleket as heleket_route
from tests.integration.webhook_fixtures import (
    PAYOUT_KEY,
    open_invoice,
    paid_payload,
    signed,
    webhook_service,
    webhook_settings,
)
from tests.metrics_scrape import registry_total

JSON = {"Content-Type": "application/json"}


async def balance(uows: UnitOfWorkFactory, user_id: int = 7) -> Decimal:
    async with uows() as uow:
        return await uow.ledger.balance(user_account(user_id))


async def events(uows: UnitOfWorkFactory) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(func.count(PaymentEventRow.id))) or 0


async def test_paid_webhook_credits_once_and_duplicates_answer_200(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    async with webhook_service(webhook_settings(pg_url)) as client:
        first = await client.post("/webhook/heleket", content=body, headers=JSON)
        again = await client.post("/webhook/heleket", content=body, headers=JSON)

    assert first.status_code == 200
    assert first.json()["outcome"] == "applied"
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert await balance(pg_uow) == Decimal("25.00")


def statements_run() -> float:
    """INSERT statements this process has run so far (the service runs in it): a webhook
    that goes to the database claims its event with one. Only inserts, because the
    service's background jobs (the ledger check's lease) run selects meanwhile."""
    return registry_total("shopbot_db_query_duration_seconds_count", operation="insert")


async def test_a_redelivery_of_an_event_seen_committed_skips_the_database(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    """The service remembers the events it saw committed (webhook/recorded_events.py):
    their redeliveries are answered after the signature check alone. Another process
    (here: a second service) does not remember it, and asks the database."""
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    async with webhook_service(webhook_settings(pg_url)) as client:
        first = await client.post("/webhook/heleket", content=body, headers=JSON)
        before = statements_run()
        again = await client.post("/webhook/heleket", content=body, headers=JSON)
        remembered = statements_run() - before
        forged = signed(paid_payload(), key="not-the-key")
        refused = await client.post("/webhook/heleket", content=forged, headers=JSON)
    async with webhook_service(webhook_settings(pg_url)) as other:
        before = statements_run()
        elsewhere = await other.post("/webhook/heleket", content=body, headers=JSON)
        asked = statements_run() - before

    assert first.json()["outcome"] == "applied"
    assert (again.status_code, again.json()["outcome"], remembered) == (200, "duplicate", 0)
    assert refused.status_code == 401  # remembered events still need a valid signature
    assert (elsewhere.json()["outcome"], asked > 0) == ("duplicate", True)
    assert await balance(pg_uow) == Decimal("25.00")
    assert await events(pg_uow) == 1


async def test_a_byte_identical_redelivery_is_known_before_parsing(
    pg_url: str, pg_uow: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes again are answered without parsing or the signature check (they
    verified once, so they would again); the same event in other bytes (re-spaced JSON,
    the same signature) is verified, and then known by its bytes too."""
    verified: list[bytes] = []
    real_verify = signature.verify_webhook

    def counting_verify(raw: bytes, key: str, **kwargs: Any) -> dict[str, Any]:
        verified.append(raw)
        return real_verify(raw, key, **kwargs)

    await open_invoice(pg_uow)
    body = signed(paid_payload())
    respaced = json.dumps(json.loads(body)).encode()
    monkeypatch.setattr(heleket_route, "verify_webhook", counting_verify)
    async with webhook_service(webhook_settings(pg_url)) as client:
        first = await client.post("/webhook/heleket", content=body, headers=JSON)
        again = await client.post("/webhook/heleket", content=body, headers=JSON)
        other_bytes = await client.post("/webhook/heleket", content=respaced, headers=JSON)
        other_again = await client.post("/webhook/heleket", content=respaced, headers=JSON)

    assert [a.json()["outcome"] for a in (first, again, other_bytes, other_again)] == [
        "applied",
        "duplicate",
        "duplicate",
        "duplicate",
    ]
    assert verified == [body, respaced]
    assert await balance(pg_uow) == Decimal("25.00")
    assert await events(pg_uow) == 1


async def test_fifty_concurrent_deliveries_credit_once(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    async with webhook_service(webhook_settings(pg_url)) as client:
        answers = await asyncio.gather(
            *(client.post("/webhook/heleket", content=body, headers=JSON) for _ in range(50))
        )

    assert {a.status_code for a in answers} == {200}
    assert sorted(a.json()["outcome"] for a in answers).count("applied") == 1
    assert await balance(pg_uow) == Decimal("25.00")
    async with pg_uow() as uow:
        assert (await uow.ledger.verify()).sound


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b.replace(b'"amount":"25.00"', b'"amount":"95.00"'), id="amount"),
        pytest.param(lambda b: b.replace(b'"status":"paid"', b'"status":"paid_over"'), id="status"),
        pytest.param(lambda b: b[:-3] + b'0"}', id="sign"),
        pytest.param(lambda b: b.split(b',"sign"')[0] + b"}", id="unsigned"),
    ],
)
async def test_tampered_or_unsigned_bodies_are_refused(
    pg_url: str, pg_uow: UnitOfWorkFactory, mutate
) -> None:
    await open_invoice(pg_uow)
    body = mutate(signed(paid_payload()))
    async with webhook_service(webhook_settings(pg_url)) as client:
        answer = await client.post("/webhook/heleket", content=body, headers=JSON)

    assert answer.status_code == 401
    assert await balance(pg_uow) == Decimal("0.00")
    assert await events(pg_uow) == 0


async def test_wrong_key_is_refused_and_not_logged(
    pg_url: str, pg_uow: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await open_invoice(pg_uow)
    async with webhook_service(webhook_settings(pg_url)) as client:
        answer = await client.post(
            "/webhook/heleket", content=signed(paid_payload(), "another-key"), headers=JSON
        )

    assert answer.status_code == 401
    assert await events(pg_uow) == 0
    settings = webhook_settings(pg_url)
    assert settings.heleket_api_key is not None
    secret = settings.heleket_api_key.get_secret_value()
    assert secret not in caplog.text
    assert secret not in answer.text


async def test_payout_webhooks_need_the_payout_key(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    payout = paid_payload(type="payout")
    async with webhook_service(webhook_settings(pg_url)) as client:
        with_payment_key = await client.post(
            "/webhook/heleket", content=signed(payout), headers=JSON
        )
        with_payout_key = await client.post(
            "/webhook/heleket", content=signed(payout, PAYOUT_KEY), headers=JSON
        )
    async with webhook_service(webhook_settings(pg_url, heleket_payout_key="changeme")) as client:
        placeholder = await client.post(
            "/webhook/heleket", content=signed(payout, "changeme"), headers=JSON
        )

    assert with_payment_key.status_code == 401
    assert with_payout_key.status_code == 200  # recorded, but payouts never credit
    assert with_payout_key.json()["outcome"] == "ignored"
    assert placeholder.status_code == 401  # a placeholder key never verifies anything
    assert await balance(pg_uow) == Decimal("0.00")


async def test_source_address_is_checked(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    await open_invoice(pg_uow)
    body = signed(paid_payload())
    heleket_only = webhook_settings(pg_url, heleket_allowed_ips=["31.133.220.8"])
    behind_proxy = webhook_settings(
        pg_url, heleket_allowed_ips=["31.133.220.8"], trusted_proxies=["127.0.0.0/8"]
    )
    async with webhook_service(heleket_only) as client:
        direct = await client.post("/webhook/heleket", content=body, headers=JSON)
        spoofed = await client.post(
            "/webhook/heleket", content=body, headers={**JSON, "X-Forwarded-For": "31.133.220.8"}
        )
    assert direct.status_code == 403
    assert spoofed.status_code == 403  # forwarded headers count only from trusted proxies
    assert await events(pg_uow) == 0

    async with webhook_service(behind_proxy) as client:
        other = await client.post(
            "/webhook/heleket", content=body, headers={**JSON, "X-Forwarded-For": "203.0.113.9"}
        )
        chained = await client.post(
            "/webhook/heleket",
            content=body,
            headers={**JSON, "X-Forwarded-For": "203.0.113.9, 31.133.220.8"},
        )
    assert other.status_code == 403
    assert chained.status_code == 200
    assert await balance(pg_uow) == Decimal("25.00")


async def test_cloudflare_header_from_a_trusted_proxy(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    settings = webhook_settings(
        pg_url, heleket_allowed_ips=["31.133.220.8"], trusted_proxies=["127.0.0.1"]
    )
    async with webhook_service(settings) as client:
        answer = await client.post(
            "/webhook/heleket",
            content=signed(paid_payload()),
            headers={**JSON, "CF-Connecting-IP": "31.133.220.8"},
        )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1,2,3]", 400),
        (b'{"uuid":"x","status":"paid","amount":NaN,"sign":"0"}', 400),
        (b"\xff\xfe", 400),
        (b'{"a":"' + b"x" * 70_000 + b'"}', 413),
    ],
)
async def test_malformed_and_oversized_bodies(
    pg_url: str, pg_uow: UnitOfWorkFactory, body: bytes, status: int
) -> None:
    async with webhook_service(webhook_settings(pg_url)) as client:
        answer = await client.post("/webhook/heleket", content=body, headers=JSON)
    assert answer.status_code == status
    assert await events(pg_uow) == 0


async def test_signed_but_mismatching_webhook_is_quarantined(
    pg_url: str, pg_uow: UnitOfWorkFactory
) -> None:
    await open_invoice(pg_uow)
    forged = signed(paid_payload(amount="2500.00", payment_amount="2500.00"))
    async with webhook_service(webhook_settings(pg_url)) as client:
        answer = await client.post("/webhook/heleket", content=forged, headers=JSON)

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "quarantined"
    assert await balance(pg_uow) == Decimal("0.00")


async def test_health_ready_and_openapi(pg_url: str, pg_uow: UnitOfWorkFactory) -> None:
    async with webhook_service(webhook_settings(pg_url)) as client:
        health = await client.get("/health")
        ready = await client.get("/health/ready")
        schema = (await client.get("/openapi.json")).json()

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert {"/webhook/heleket", "/health", "/health/ready"} <= set(schema["paths"])
    operation = schema["paths"]["/webhook/heleket"]["post"]
    assert "sign" in operation["requestBody"]["content"]["application/json"]["schema"]["required"]
