from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from shopbot.domain.catalog.models import ProductKind


class OrderStatus(StrEnum):
    DELIVERED = "delivered"
    """Paid and handed over (stock item or unlimited content)."""
    AWAITING_FULFILMENT = "awaiting_fulfilment"
    """Paid; a manual product an admin still has to fulfil."""
    FULFILLED = "fulfilled"
    """Paid; a manual product an admin has fulfilled."""
    REFUNDED = "refunded"
    """Paid, then refunded back to the balance (once)."""


REFUNDABLE = frozenset(
    {OrderStatus.DELIVERED, OrderStatus.AWAITING_FULFILMENT, OrderStatus.FULFILLED}
)


def initial_status(kind: ProductKind) -> OrderStatus:
    return OrderStatus.AWAITING_FULFILMENT if kind is ProductKind.MANUAL else OrderStatus.DELIVERED


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    user_id: int
    product_id: int
    sku: str
    price: Decimal
    status: OrderStatus
    request_key: str
    delivery: str | None
    """The stock item or unlimited content the buyer received, or the admin's note."""
    created_at: datetime
    updated_at: datetime
