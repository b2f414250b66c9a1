"""The whole Heleket path on loopback: the emulator, the real webhook service and the real
client, on a real PostgreSQL database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from shopbot.adapters.heleket.client import HeleketClient
from shopbot.composition.policies import topup_policy
from shopbot.composition.webhook import webhook_service
from shopbot.config import Settings
from shopbot.domain.ledger import user_account
from shopbot.domain.payments.models import TopupInvoice
from shopbot.domain.payments.topups import create_topup
from shopbot.http.serve import free_port, serve
from shopbot.persistence.uow import UnitOfWorkFactory
from shopbot.sandbox.heleket import EmulatorConfig, create_app
from tests.integration.webhook_fixtures import FAST_RETRY, MERCHANT, PAYMENT_KEY, PAYOUT_KEY


@dataclass
class HeleketStack:
    settings: Settings
    emulator: httpx.AsyncClient
    gateway: HeleketClient
    uows: UnitOfWorkFactory
    webhook_url: str

    async def topup(self, user_id: int, amount: str, key: str = "tap") -> TopupInvoice:
        return await create_topup(
            self.uows,
            self.gateway,
            topup_policy(self.settings),
            user_id=user_id,
            amount=amount,
            request_key=key,
        )

    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.emulator.post(f"/sandbox{path}", json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    async def settle(self) -> None:
        response = await self.emulator.get("/sandbox/settle", params={"timeout": 30})
        assert response.status_code == 200, response.text

    async def deliveries(self, uuid: str | None) -> list[dict[str, Any]]:
        assert uuid is not None, "the invoice has no Heleket uuid"
        response = await self.emulator.get("/sandbox/deliveries", params={"uuid": uuid})
        return response.json()

    async def balance(self, user_id: int) -> Decimal:
        async with self.uows() as uow:
            return await uow.ledger.balance(user_account(user_id))

    async def invoice(self, order_id: str) -> TopupInvoice:
        async with self.uows() as uow:
            invoice = await uow.topups.get_by_order_id(order_id)
        assert invoice is not None
        return invoice

    async def sound(self) -> bool:
        async with self.uows() as uow:
            return (await uow.ledger.verify()).sound


@asynccontextmanager
async def heleket_stack(database_url: str, **settings: Any) -> AsyncIterator[HeleketStack]:
    emulator_port, webhook_port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    config = EmulatorConfig(
        merchants={MERCHANT: (PAYMENT_KEY, PAYOUT_KEY)},
        public_url=emulator_url,
        webhook_attempts=12,
        webhook_base_delay=0.1,
        webhook_max_delay=1.0,
        webhook_timeout=5.0,
    )
    values: dict[str, Any] = {
        "database_url": database_url,
        "heleket_merchant_id": MERCHANT,
        "heleket_api_key": PAYMENT_KEY,
        "heleket_payout_key": PAYOUT_KEY,
        "heleket_api_url": emulator_url,
        "heleket_allowed_ips": ["127.0.0.1"],
        "public_base_url": f"http://127.0.0.1:{webhook_port}",
        "reconcile_interval_seconds": 0,
    }
    values.update(settings)
    app_settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    async with (
        webhook_service(app_settings, heleket_retry=FAST_RETRY) as service,
        serve(create_app(config), port=emulator_port),
        serve(service.app, port=webhook_port),
        httpx.AsyncClient(base_url=emulator_url, timeout=60) as emulator,
    ):
        assert isinstance(service.gateway, HeleketClient)  # built from the settings
        yield HeleketStack(
            settings=app_settings,
            emulator=emulator,
            gateway=service.gateway,
            uows=service.uows,
            webhook_url=f"http://127.0.0.1:{webhook_port}/webhook/heleket",
        )
