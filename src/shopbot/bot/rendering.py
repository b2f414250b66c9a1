"""Texts built from domain objects, shared by the routers and the notifiers."""

from decimal import Decimal

from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.orders.models import Order, OrderStatus


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def delivery(t: Texts, order: Order, product: Product) -> str:
    """What the buyer received: shown at purchase and again under My orders."""
    title = product.title.get(t.language)
    if order.status is OrderStatus.AWAITING_FULFILMENT:
        return t("buy.manual", order_id=order.id, title=title)
    if product.kind is ProductKind.STOCK:
        return t("buy.delivered_item", order_id=order.id, title=title, item=order.delivery or "")
    return t("buy.delivered_content", order_id=order.id, title=title, content=order.delivery or "")
