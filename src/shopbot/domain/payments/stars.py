"""Telegram Stars top-ups (XTR): credited once per telegram_payment_charge_id."""

from typing import Protocol


class StarPaymentRepository(Protocol):
    pass
