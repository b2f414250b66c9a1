"""Buying from the balance, refunds and manual fulfilment.

Each use case runs inside the caller's unit of work and does not commit. A purchase is
one transaction: the order row, the reserved stock item and the ledger debit either all
exist or none does. Concurrency is settled by the database: the balance debit is a
conditional update guarded by a CHECK, and the stock reservation skips locked rows.
"""

from dataclasses import dataclass

from shopbot.domain import idempotency_keys
from shopbot.domain.catalog.models import ProductKind
from shopbot.domain.errors import (
    IdempotencyKeyReused,
    OrderNotFound,
    OrderStateError,
    OutOfStock,
    ProductNotFound,
    ProductUnavailable,
    UserBlocked,
    UserNotFound,
)
from shopbot.domain.ledger import SystemAccount, TransactionKind, transfer, user_account
from shopbot.domain.orders.models import REFUNDABLE, Order, OrderStatus, initial_status
from shopbot.domain.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    order: Order
    created: bool
    """False when the request key had already bought: the earlier order is returned."""


def _repeated(order: Order, *, user_id: int, sku: str, request_key: str) -> PurchaseResult:
    """The first order under `request_key`, if it was this user buying this product."""
    if order.user_id != user_id or order.sku != sku:
        raise IdempotencyKeyReused(
            request_key, f"order #{order.id} of {order.sku} by user {order.user_id}"
        )
    return PurchaseResult(order, created=False)


async def purchase(uow: UnitOfWork, *, user_id: int, sku: str, request_key: str) -> PurchaseResult:
    """Buy one unit of `sku` from the user's balance.

    `request_key` identifies the customer's intent (e.g. the confirm button's callback),
    so a double tap or a redelivered update returns the first order instead of buying
    twice. Raises InsufficientFunds, OutOfStock, ProductUnavailable, ...; the caller then
    rolls back and nothing has changed.

    Runs inside the caller's unit of work; does not commit.
    """
    existing = await uow.orders.get_by_request_key(request_key)
    if existing is not None:
        return _repeated(existing, user_id=user_id, sku=sku, request_key=request_key)
    user = await uow.users.get(user_id)
    if user is None:
        raise UserNotFound(user_id)
    if user.is_blocked:
        raise UserBlocked(user_id)
    product = await uow.catalog.get_product(sku)
    if product is None:
        raise ProductNotFound(sku)
    if not product.is_active:
        raise ProductUnavailable(sku)
    order = await uow.orders.create(
        user_id=user_id,
        product_id=product.id,
        sku=product.sku,
        price=product.price,
        status=initial_status(product.kind),
        request_key=request_key,
    )
    if order is None:  # a concurrent twin with the same key committed first
        twin = await uow.orders.get_by_request_key(request_key)
        if twin is None:
            raise OrderStateError(f"order for request {request_key!r} vanished")
        return _repeated(twin, user_id=user_id, sku=sku, request_key=request_key)
    delivery: str | None = None
    if product.kind is ProductKind.STOCK:
        delivery = await uow.stock.reserve(product.id, order.id)
        if delivery is None:
            raise OutOfStock(sku)
    elif product.kind is ProductKind.UNLIMITED:
        delivery = product.content
    if delivery is not None:
        await uow.orders.set_delivery(order.id, delivery)
    # Last, so the shared revenue row is locked for the shortest time.
    await uow.ledger.post(
        transfer(
            idempotency_keys.order_debit(order.id),
            TransactionKind.PURCHASE,
            source=user_account(user_id),
            destination=SystemAccount.REVENUE,
            amount=product.price,
            memo=f"order {order.id}: {product.sku}",
        )
    )
    final = await uow.orders.get(order.id)
    if final is None:
        raise OrderNotFound(order.id)
    return PurchaseResult(final, created=True)


async def refund_order(uow: UnitOfWork, order_id: int, *, reason: str, actor: str) -> Order:
    """Return the order's price to the buyer's balance; allowed once per order.

    Runs inside the caller's unit of work; does not commit.
    """
    order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    refunded = await uow.orders.transition(
        order_id, allowed=REFUNDABLE, to=OrderStatus.REFUNDED, note=None
    )
    if refunded is None:
        raise OrderStateError(f"order {order_id} is {order.status} and cannot be refunded")
    await uow.ledger.post(
        transfer(
            idempotency_keys.order_refund(order_id),
            TransactionKind.REFUND,
            source=SystemAccount.REFUNDS,
            destination=user_account(order.user_id),
            amount=order.price,
            memo=f"refund of order {order_id}: {reason}",
            actor=actor,
        )
    )
    return refunded


async def fulfil_order(uow: UnitOfWork, order_id: int, *, note: str) -> Order:
    """Mark a manual order fulfilled, recording what the admin handed over.

    Runs inside the caller's unit of work; does not commit.
    """
    fulfilled = await uow.orders.transition(
        order_id,
        allowed=frozenset({OrderStatus.AWAITING_FULFILMENT}),
        to=OrderStatus.FULFILLED,
        note=note,
    )
    if fulfilled is None:
        order = await uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        raise OrderStateError(f"order {order_id} is {order.status}, not awaiting fulfilment")
    return fulfilled
