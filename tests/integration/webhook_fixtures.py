"""Shared pieces for tests of the webhook service over real HTTP."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx

from shopbot.adapters.heleket.signature import signed_webhook_body
from shopbot.composition.resources import HeleketRetry
from shopbot.composition.webhook import webhook_service as build_webhook_service
from shopbot.config import Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.http.serve import serve
from shopbot.persistence.uow import UnitOfWorkFactory
from tests.conftest import add_user

PAYMENT_KEY = "uQ4LFWCBE3dT84uQnt7ycL7p9WcSwjkSPQaZbik3ChoWO0egw51f4EAaZQKmefhPP0F1cX8Op"
PAYOUT_KEY = "Pbx6aBebkDbUS48XISZIBEBQWV0AiTEoIOf5LWDhh12u9UQx8HxPGBj4IJ2PPtTwhH0jpUif2"
MERCHANT = "c26b80a8-9549-4a66-bb53-774f12809249"
UUID = "0b7a9d3e-5c21-4f8a-8e6b-91d2c4a7f3e5"
ORDER_ID = "topup-7-webhook"
FAST_RETRY = HeleketRetry(attempts=2, backoff_base=0.05)
"""The emulators answer at once: a failed call is retried soon, and given up soon."""


def webhook_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "heleket_merchant_id": MERCHANT,
        "heleket_api_key": PAYMENT_KEY,
        "heleket_payout_key": PAYOUT_KEY,
        "heleket_allowed_ips": ["127.0.0.1"],
        "trusted_proxies": [],
        "reconcile_interval_seconds": 0,
        "public_base_url": "https://shop.example.com",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def webhook_service(
    settings: Settings, gateway: PaymentGateway | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        build_webhook_service(settings, gateway=gateway, heleket_retry=FAST_RETRY) as service,
        serve(service.app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield client


def paid_payload(status: str = "paid", **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "payment",
        "uuid": UUID,
        "order_id": ORDER_ID,
        "amount": "25.00",
        "payment_amount": "25.00",
        "payment_amount_usd": "25",
        "merchant_amount": "24.50",
        "commission": "0.50",
        "is_final": True,
        "status": status,
        "from": None,
        "wallet_address_uuid": None,
        "network": "tron",
        "currency": "USD",
        "payer_currency": "USDT",
        "payer_amount": "25.00",
        "additional_data": "user:7",
        "txid": "3f9c0e1d7a2b4c5d",
    }
    payload.update(changes)
    return payload


def signed(payload: dict[str, Any], key: str = PAYMENT_KEY) -> bytes:
    return signed_webhook_body(payload, key)


async def open_invoice(uows: UnitOfWorkFactory, user_id: int = 7, amount: str = "25.00") -> None:
    await add_user(uows, user_id)
    async with uows() as uow:
        invoice = await uow.topups.create(
            user_id=user_id,
            order_id=ORDER_ID,
            request_key=f"key-{user_id}",
            amount=Decimal(amount),
            currency="USD",
        )
        assert invoice is not None
        await uow.topups.attach_gateway(
            invoice.id, uuid=UUID, url="https://pay.example", expires_at=None, status="check"
        )
        await uow.commit()
