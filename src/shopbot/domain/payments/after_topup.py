"""The purchase a customer could not afford, completed once their top-up is credited.

The catalog offers "top up the missing amount"; the product is remembered with the
payment (a Heleket invoice's `then_buy_product_id`, a Stars payload) and, once THAT
payment is credited, bought here under the request key `after-topup:<payment ref>`, so
however often this runs (a redelivered update, a notifier retried) it buys once. If the
product can no longer be bought, the money simply stays on the balance.

Runs in its own transaction, after the credit is committed: a failed purchase never
undoes a payment.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shopbot.domain import idempotency_keys
from shopbot.domain.catalog.models import Product
from shopbot.domain.errors import (
    InsufficientFunds,
    NotFound,
    OutOfStock,
    ProductUnavailable,
    UserBlocked,
)
from shopbot.domain.ledger import user_account
from shopbot.domain.orders.models import Order
from shopbot.domain.orders.use_cases import purchase
from shopbot.domain.uow import UnitOfWorkFactory


class AfterTopupStatus(StrEnum):
    BOUGHT = "bought"
    ALREADY = "already"
    """Bought by an earlier run for the same payment."""
    SOLD_OUT = "sold_out"
    UNAVAILABLE = "unavailable"
    """Deactivated or deleted since."""
    INSUFFICIENT = "insufficient"
    """The balance was spent meanwhile (or the price went up)."""
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class AfterTopupResult:
    status: AfterTopupStatus
    product: Product | None
    order: Order | None = None
    balance: Decimal | None = None
    """The balance after the attempt (for the customer's message)."""

    @property
    def bought(self) -> bool:
        return self.order is not None


async def buy_after_topup(
    uow_factory: UnitOfWorkFactory, *, user_id: int, product_id: int, payment_ref: str
) -> AfterTopupResult:
    """Buy `product_id` for the user once per `payment_ref` (a Heleket order id or a
    Stars charge id). Commits on success; any refusal leaves everything unchanged.

    Takes a unit-of-work factory: commits its own purchase, between the committed credit it
    follows (a Heleket webhook or check, a Stars payment) and the Telegram message that
    announces it."""
    async with uow_factory() as uow:
        product = await uow.catalog.get_product_by_id(product_id)
    status: AfterTopupStatus
    order: Order | None = None
    try:
        if product is None:
            raise NotFound(f"product {product_id} not found")
        async with uow_factory() as uow:
            bought = await purchase(
                uow,
                user_id=user_id,
                sku=product.sku,
                request_key=idempotency_keys.purchase_after_topup(payment_ref),
            )
            await uow.commit()
        order = bought.order
        status = AfterTopupStatus.BOUGHT if bought.created else AfterTopupStatus.ALREADY
    except InsufficientFunds:
        status = AfterTopupStatus.INSUFFICIENT
    except OutOfStock:
        status = AfterTopupStatus.SOLD_OUT
    except (ProductUnavailable, NotFound):
        status = AfterTopupStatus.UNAVAILABLE
    except UserBlocked:
        status = AfterTopupStatus.BLOCKED
    async with uow_factory() as uow:
        balance = await uow.ledger.balance(user_account(user_id))
    return AfterTopupResult(status, product, order, balance)
