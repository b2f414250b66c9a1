"""Configuration of the Heleket emulator, and a manual clock for tests."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: `clock.advance(seconds=3601)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _default_rates() -> dict[str, dict[str, str]]:
    return {"USD": {"USDT": "1"}}


def _default_networks() -> dict[str, str]:
    return {"USDT": "tron", "TRX": "tron", "BTC": "btc", "ETH": "eth", "LTC": "ltc", "TON": "ton"}


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator needs; all fields but `merchants` have demo-friendly defaults.

    merchants: merchant_id -> (payment_key, payout_key).
    rates: invoice currency -> {payer currency -> payer units per invoice unit}. The first
        entry is used when an invoice names no `to_currency`; `rates["USD"]` also gives
        `payment_amount_usd`.
    networks: payer currency -> network code (also the /v1/payment/services list).
    public_url: base of the hosted page URLs put into invoices (`{public_url}/pay/{uuid}`).
    clock: source of "now" (aware datetimes); `ManualClock` in tests.
    webhook_attempts / webhook_base_delay / webhook_max_delay: delivery retries; attempt n
        waits base * 2**(n-1) seconds (capped) after a failed attempt n.
    expiry_check_interval: how often (s) a background task expires overdue invoices;
        None disables it (expiry then happens lazily on every API/control/page access).
    """

    merchants: Mapping[str, tuple[str, str]]
    rates: Mapping[str, Mapping[str, str]] = field(default_factory=_default_rates)
    networks: Mapping[str, str] = field(default_factory=_default_networks)
    public_url: str = "http://127.0.0.1:8090"
    clock: Callable[[], datetime] = system_clock
    commission_percent: Decimal = Decimal("2")
    webhook_attempts: int = 8
    webhook_base_delay: float = 1.0
    webhook_max_delay: float = 60.0
    webhook_timeout: float = 10.0
    expiry_check_interval: float | None = 1.0
    per_page: int = 15
