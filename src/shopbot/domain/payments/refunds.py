"""Refunding a crypto top-up to the payer's wallet through Heleket.

The user's balance is held first (user → heleket-refunds), so money that was already
spent cannot be refunded too. Heleket's `refund_paid` report then moves the hold out of
the shop; `refund_fail`, or a refusal of the request itself, releases it back.

One refund per invoice goes through the shop: Heleket reports each refund status once
per invoice, so a second attempt could never be settled by its reports. After a failed
refund the balance is restored and an operator settles by hand.
"""

import re
from decimal import Decimal

from shopbot.domain import idempotency_keys
from shopbot.domain.errors import InvalidInput, NotFound, OrderStateError
from shopbot.domain.ledger import SystemAccount, TransactionKind, transfer, user_account
from shopbot.domain.money import parse_positive_amount
from shopbot.domain.payments.gateway import GatewayRejected, GatewayUnauthorized, PaymentGateway
from shopbot.domain.payments.models import InvoiceState, RefundState, TopupInvoice
from shopbot.domain.uow import UnitOfWorkFactory

REFUNDABLE = frozenset({RefundState.NONE})

WALLET_ADDRESS = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9:_.\-]{0,126}[A-Za-z0-9])?\Z")
"""ASCII letters and digits, with `:` `_` `.` `-` inside only (a `prefix:address` or
`address:memo` form), at most 128 characters."""
WALLET_MIN_ALNUM = 20
"""Addresses of the networks Heleket pays out on have 25 or more letters and digits
(TRON 34, Bitcoin 26-62, EVM 0x+40, TON 48, Solana 32-44); 20 leaves room and refuses
anything made of separators."""
WALLET_RULE = (
    "a wallet address is 20-128 characters: ASCII letters and digits (at least 20 of them), "
    "with ':', '_', '.' or '-' only between them"
)


def wallet_address(text: str) -> str:
    """The refund address `text` (surrounding whitespace removed) if it has the shape of a
    wallet address: WALLET_ADDRESS and at least WALLET_MIN_ALNUM letters and digits.
    Only the shape is checked (Heleket validates the address for the network, SPEC
    §2.6). Raises InvalidInput naming the rule (WALLET_RULE)."""
    address = text.strip()
    letters_digits = sum(1 for char in address if char.isascii() and char.isalnum())
    if not WALLET_ADDRESS.match(address) or letters_digits < WALLET_MIN_ALNUM:
        raise InvalidInput(f"not a wallet address: {WALLET_RULE}")
    return address


async def request_refund(
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    *,
    order_id: str,
    address: str,
    amount: object | None = None,
    actor: str,
) -> TopupInvoice:
    """Hold `amount` (default: all credited, in the invoice currency) of the user's
    balance and ask Heleket to send it to `address` (SPEC §2.6). `actor` (ledger.actors)
    is recorded on the hold and on a release. Raises NotFound, OrderStateError (not
    credited, or refunded before), InvalidInput/InvalidAmount (an address not of the
    `wallet_address` shape, or a bad amount),
    InsufficientFunds (the balance no longer covers it; nothing is sent), and
    GatewayRejected/GatewayUnauthorized (the hold is released) or GatewayUnavailable
    (the hold stays until Heleket's report).

    Takes a unit-of-work factory: commits around the network call to Heleket (payout): the hold
    is committed before it, a release or the request's state in another transaction after."""
    address = wallet_address(address)
    async with uow_factory() as uow:
        invoice = await uow.topups.get_by_order_id(order_id)
        if invoice is None:
            raise NotFound(f"top-up {order_id!r} not found")
        if invoice.state is not InvoiceState.CREDITED or invoice.credited_amount is None:
            raise OrderStateError(
                f"top-up {order_id} is {invoice.state}; only credited ones refund"
            )
        value = invoice.credited_amount if amount is None else parse_positive_amount(amount)
        if value > invoice.credited_amount:
            raise InvalidInput(
                f"cannot refund {value}: only {invoice.credited_amount} was credited"
            )
        held = await uow.topups.set_refund(
            invoice.id, allowed=REFUNDABLE, to=RefundState.REQUESTED, amount=value
        )
        if held is None:
            raise OrderStateError(f"a refund of {order_id} was already {invoice.refund_state}")
        await uow.ledger.post(
            transfer(
                idempotency_keys.heleket_refund_hold(invoice.uuid),
                TransactionKind.PROVIDER_REFUND,
                source=user_account(invoice.user_id),
                destination=SystemAccount.HELEKET_REFUNDS,
                amount=value,
                memo=f"refund of {order_id} to the payer's wallet requested",
                actor=actor,
            )
        )
        await uow.commit()
    partial = value if value != invoice.credited_amount else None
    try:
        await gateway.refund(address=address, is_subtract=True, uuid=invoice.uuid, amount=partial)
    except (GatewayRejected, GatewayUnauthorized):
        await _release(uow_factory, invoice, value, actor)
        raise
    # GatewayUnavailable propagates with the hold in place: the request may have reached
    # Heleket, so only its refund_paid / refund_fail report (or reconciliation) settles it.
    return held


async def _release(
    uow_factory: UnitOfWorkFactory, invoice: TopupInvoice, value: Decimal, actor: str
) -> None:
    async with uow_factory() as uow:
        released = await uow.topups.set_refund(
            invoice.id, allowed=frozenset({RefundState.REQUESTED}), to=RefundState.FAILED
        )
        if released is not None:
            await uow.ledger.post(
                transfer(
                    idempotency_keys.heleket_refund_release(invoice.uuid),
                    TransactionKind.PROVIDER_REFUND,
                    source=SystemAccount.HELEKET_REFUNDS,
                    destination=user_account(invoice.user_id),
                    amount=value,
                    memo=f"refund of {invoice.order_id} refused by Heleket; balance restored",
                    actor=actor,
                )
            )
        await uow.commit()
