"""A local emulator of the Heleket merchant API: /v1 with real signatures and errors,
a hosted payment page, signed webhooks with retries, and a /sandbox control API."""

from shopbot.sandbox.heleket.app import create_app
from shopbot.sandbox.heleket.config import EmulatorConfig, ManualClock

__all__ = ["EmulatorConfig", "ManualClock", "create_app"]
