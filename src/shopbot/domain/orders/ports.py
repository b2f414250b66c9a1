from decimal import Decimal
from typing import Protocol

from shopbot.domain.orders.models import Order, OrderStatus


class OrderReader(Protocol):
    """A customer's order history (a replica may serve it)."""

    async def get(self, order_id: int) -> Order | None: ...

    async def list_for_user(self, user_id: int, limit: int) -> list[Order]:
        """Up to `limit` of the user's orders, newest first."""
        ...


class OrderRepository(OrderReader, Protocol):
    async def create(
        self,
        *,
        user_id: int,
        product_id: int,
        sku: str,
        price: Decimal,
        status: OrderStatus,
        request_key: str,
    ) -> Order | None:
        """Insert the order; None when an order with this request key already exists."""
        ...

    async def get_by_request_key(self, request_key: str) -> Order | None: ...

    async def set_delivery(self, order_id: int, delivery: str) -> None: ...

    async def transition(
        self,
        order_id: int,
        *,
        allowed: frozenset[OrderStatus],
        to: OrderStatus,
        note: str | None = None,
    ) -> Order | None:
        """Atomically move the order to `to` if its status is in `allowed`, else None."""
        ...

    async def claim_announcement(self, order_id: int) -> bool:
        """Mark a manual order as announced to the admins: True only for the one caller
        that marks it (the order is awaiting fulfilment and was not announced before),
        across processes, so the admins are told exactly once."""
        ...

    async def awaiting_fulfilment(self, limit: int) -> list[Order]:
        """Up to `limit` orders awaiting fulfilment, oldest first."""
        ...
