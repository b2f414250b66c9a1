"""The Heleket client built by the composition root publishes its circuit breaker's
state as a gauge: real calls to a port where nothing listens open it."""

import socket
from contextlib import AsyncExitStack

import pytest
from prometheus_client import REGISTRY

from shopbot.composition.resources import HeleketRetry, open_heleket
from shopbot.domain.payments.gateway import GatewayError
from tests.integration.webhook_fixtures import webhook_settings


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def state() -> float | None:
    return REGISTRY.get_sample_value("shopbot_circuit_breaker_state", {"breaker": "heleket"})


async def test_breaker_state_gauge_follows_real_failures(pg_url: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    settings = webhook_settings(pg_url, heleket_api_url=url)
    async with AsyncExitStack() as stack:
        client = open_heleket(stack, settings, HeleketRetry(attempts=1, backoff_base=0.01))
        assert state() == 0
        for _ in range(client.breaker.threshold):
            with pytest.raises(GatewayError):
                await client.services()
        assert state() == 2
