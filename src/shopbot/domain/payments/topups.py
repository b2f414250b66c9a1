"""Creating Heleket top-up invoices.

This use case calls the gateway over the network, so it runs two short transactions
around the call instead of holding one open while waiting: (1) claim the request key
and the order id, (2) store what Heleket answered. A retry with the same request key
(e.g. after a timeout) reuses the order id, and Heleket returns the existing invoice
for an existing order id, so the same top-up never becomes two invoices.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from shopbot.domain.errors import (
    IdempotencyKeyReused,
    InvalidAmount,
    NotFound,
    ProductUnavailable,
    UserBlocked,
    UserNotFound,
)
from shopbot.domain.money import parse_positive_amount
from shopbot.domain.payments.gateway import InvoiceRequest, PaymentGateway
from shopbot.domain.payments.models import TopupInvoice
from shopbot.domain.uow import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class TopupPolicy:
    currency: str
    minimum: Decimal
    maximum: Decimal
    callback_url: str
    lifetime_seconds: int = 3600
    return_url: str | None = None


def new_order_id(user_id: int) -> str:
    """Unique, and within Heleket's `^[A-Za-z0-9_-]{1,128}$`."""
    return f"topup-{user_id}-{secrets.token_hex(8)}"


async def create_topup(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    policy: TopupPolicy,
    *,
    user_id: int,
    amount: object,
    request_key: str,
    then_buy_product_id: int | None = None,
) -> TopupInvoice:
    """`then_buy_product_id`: a product to buy automatically once this top-up is
    credited (see after_topup.py); it must be on sale when the invoice is made.

    Takes a unit-of-work factory: commits around the network call to Heleket (create invoice):
    the invoice row is committed before it, the gateway's answer attached in another transaction
    after."""
    value = parse_positive_amount(amount)
    if not policy.minimum <= value <= policy.maximum:
        raise InvalidAmount(
            f"a top-up must be between {policy.minimum} and {policy.maximum} {policy.currency}"
        )
    async with uow_factory() as uow:
        invoice = await uow.topups.get_by_request_key(request_key)
        if invoice is None:
            user = await uow.users.get(user_id)
            if user is None:
                raise UserNotFound(user_id)
            if user.is_blocked:
                raise UserBlocked(user_id)
            if then_buy_product_id is not None:
                product = await uow.catalog.get_product_by_id(then_buy_product_id)
                if product is None:
                    raise NotFound(f"product {then_buy_product_id} not found")
                if not product.is_active:
                    raise ProductUnavailable(product.sku)
            invoice = await uow.topups.create(
                user_id=user_id,
                order_id=new_order_id(user_id),
                request_key=request_key,
                amount=value,
                currency=policy.currency,
                then_buy_product_id=then_buy_product_id,
            )
            if invoice is None:  # a concurrent twin claimed the key first
                invoice = await uow.topups.get_by_request_key(request_key)
            await uow.commit()
    if invoice is None:
        raise RuntimeError(f"top-up {request_key!r} vanished")
    if invoice.user_id != user_id or invoice.amount != value:
        raise IdempotencyKeyReused(
            request_key,
            f"top-up {invoice.order_id} of {invoice.amount} {invoice.currency} "
            f"for user {invoice.user_id}",
        )
    if invoice.uuid is not None:
        return invoice
    created = await gateway.create_invoice(
        InvoiceRequest(
            order_id=invoice.order_id,
            amount=invoice.amount,
            currency=invoice.currency,
            url_callback=policy.callback_url,
            lifetime=policy.lifetime_seconds,
            additional_data=f"user:{invoice.user_id}",
            url_return=policy.return_url,
            url_success=policy.return_url,
        )
    )
    async with uow_factory() as uow:
        await uow.topups.attach_gateway(
            invoice.id,
            uuid=created.uuid,
            url=created.url,
            expires_at=created.expired_at,
            status=created.status,
        )
        await uow.commit()
        stored = await uow.topups.get_by_order_id(invoice.order_id)
    if stored is None:
        raise RuntimeError(f"top-up {invoice.order_id} vanished")
    return stored
