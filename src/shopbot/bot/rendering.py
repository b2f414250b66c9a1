"""Texts built from domain objects, shared by the routers and the notifiers."""

from decimal import Decimal

from shopbot.bot.texts import Texts
from shopbot.domain.catalog.models import Product, ProductKind
from shopbot.domain.orders.models import Order, OrderStatus
from shopbot.domain.users import User


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


def who(t: Texts, user_id: int, user: User | None) -> str:
    """A customer as admins see them: `@username (id N)`, or `id N` without a username
    (the bot stores no other name). Every admin screen naming a customer uses this."""
    if user is not None and user.username:
        return t("money_admin.who_named", username=user.username, user_id=user_id)
    return t("money_admin.who_id", user_id=user_id)
