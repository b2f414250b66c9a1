from shopbot.domain.orders.models import Order, OrderStatus
from shopbot.domain.orders.ports import OrderRepository

__all__ = ["Order", "OrderRepository", "OrderStatus"]
