"""Telegram Stars top-ups (XTR): credited once per telegram_payment_charge_id.

The invoice's payload names the payer, the amount in the shop currency, the product to
buy afterwards (if any) and the Stars price, so both the pre-checkout answer and the
credit are decided from what Telegram hands back, without state kept between them.

A payment is a `star_payments` row (UNIQUE charge id) plus the ledger transaction
`stars:<charge id>` (provider:stars → user), in one transaction: a redelivered
`successful_payment` finds the row and changes nothing, and 50 concurrent deliveries of
one charge wait on the UNIQUE index and credit once.

Refunds hold the user's balance first (user → provider:stars, `stars:<charge>:refund`),
so money already spent cannot be refunded as well; a refusal by Telegram releases the
hold (`stars:<charge>:refund-release`). An unclear answer (network, 5xx, 429) keeps the
hold and the refund `requested`: pressing again asks Telegram again without a second hold.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Protocol

from shopbot.domain import idempotency_keys
from shopbot.domain.errors import DomainError, InvalidAmount, NotFound, OrderStateError
from shopbot.domain.ids import is_id
from shopbot.domain.ledger import (
    LedgerTransaction,
    SystemAccount,
    TransactionKind,
    transfer,
    user_account,
)
from shopbot.domain.money import (
    MINOR_UNIT,
    from_minor_units,
    parse_positive_amount,
    to_minor_units,
)

# Defined beside the other payment models (the repository port names them); re-exported
# here, where the Stars flow's callers look for them.
from shopbot.domain.payments.models import StarPayment as StarPayment
from shopbot.domain.payments.models import StarRefundState as StarRefundState
from shopbot.domain.uow import UnitOfWork, UnitOfWorkFactory

STARS_CURRENCY = "XTR"
MAX_STARS_PER_INVOICE = 10_000
"""A conservative ceiling for one Stars invoice; larger top-ups use another method."""
MAX_PAYLOAD_BYTES = 128
_PAYLOAD = re.compile(r"^st1:(\d{1,20}):(\d{1,16}):(\d{1,20}):(\d{1,12})$")


@dataclass(frozen=True, slots=True)
class StarsPolicy:
    currency: str
    minimum: Decimal
    maximum: Decimal
    stars_per_unit: Decimal

    def stars_for(self, amount: Decimal) -> int:
        """The Stars price of `amount`: rounded up, the shop never sells below its rate."""
        return int((amount * self.stars_per_unit).to_integral_value(rounding=ROUND_CEILING))

    def value_of(self, stars: int) -> Decimal:
        """What `stars` are worth, rounded down: never credit more than arrived."""
        return (Decimal(stars) / self.stars_per_unit).quantize(MINOR_UNIT, rounding=ROUND_DOWN)

    @property
    def largest_amount(self) -> Decimal:
        """The most one Stars invoice can top up."""
        largest = Decimal(MAX_STARS_PER_INVOICE) / self.stars_per_unit
        return min(largest.quantize(MINOR_UNIT, rounding=ROUND_DOWN), self.maximum)

    def offers(self, amount: Decimal) -> bool:
        """Whether Stars can pay `amount` in one invoice."""
        return 1 <= self.stars_for(amount) <= MAX_STARS_PER_INVOICE


@dataclass(frozen=True, slots=True)
class StarsPayload:
    user_id: int
    amount: Decimal
    product_id: int | None
    stars: int

    def encode(self) -> str:
        text = (
            f"st1:{self.user_id}:{to_minor_units(self.amount)}:{self.product_id or 0}:{self.stars}"
        )
        assert len(text.encode()) <= MAX_PAYLOAD_BYTES
        return text

    @classmethod
    def decode(cls, text: str) -> "StarsPayload | None":
        match = _PAYLOAD.match(text or "")
        if match is None:
            return None
        user_id, amount, product_id, stars = (int(part) for part in match.groups())
        if not is_id(user_id) or (product_id and not is_id(product_id)):
            return None  # forged: no stored id is that large
        return cls(user_id, from_minor_units(amount), product_id or None, stars)


def invoice_payload(
    policy: StarsPolicy, *, user_id: int, amount: object, product_id: int | None
) -> StarsPayload:
    """The payload of a Stars invoice for a top-up of `amount` (validated)."""
    value = parse_positive_amount(amount)
    if not policy.minimum <= value <= policy.maximum:
        raise InvalidAmount(
            f"a top-up must be between {policy.minimum} and {policy.maximum} {policy.currency}"
        )
    if not policy.offers(value):
        raise InvalidAmount(f"{value} {policy.currency} is beyond one Stars invoice")
    return StarsPayload(user_id, value, product_id, policy.stars_for(value))


class CheckoutRefusal(StrEnum):
    MALFORMED = "malformed"
    WRONG_USER = "wrong_user"
    AMOUNT = "amount"
    PRICE = "price"
    PRODUCT = "product"
    BLOCKED = "blocked"


class CheckoutRefused(DomainError):
    def __init__(self, reason: CheckoutRefusal) -> None:
        super().__init__(f"Stars checkout refused: {reason}")
        self.reason = reason


async def check_checkout(
    uow: UnitOfWork,
    policy: StarsPolicy,
    *,
    user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
) -> StarsPayload:
    """Re-validate an invoice at pre-checkout; raises CheckoutRefused with the reason.

    Runs inside the caller's unit of work; does not commit.
    """
    decoded = StarsPayload.decode(payload)
    if decoded is None or currency != STARS_CURRENCY or total_amount != decoded.stars:
        raise CheckoutRefused(CheckoutRefusal.MALFORMED)
    if decoded.user_id != user_id:
        raise CheckoutRefused(CheckoutRefusal.WRONG_USER)
    if not policy.minimum <= decoded.amount <= policy.maximum:
        raise CheckoutRefused(CheckoutRefusal.AMOUNT)
    if decoded.stars != policy.stars_for(decoded.amount):
        raise CheckoutRefused(CheckoutRefusal.PRICE)
    user = await uow.users.get(user_id)
    if user is None or user.is_blocked:
        raise CheckoutRefused(CheckoutRefusal.BLOCKED)
    if decoded.product_id is not None:
        product = await uow.catalog.get_product_by_id(decoded.product_id)
        if product is None or not product.is_active:
            raise CheckoutRefused(CheckoutRefusal.PRODUCT)
    return decoded


@dataclass(frozen=True, slots=True)
class StarCredit:
    payment: StarPayment
    created: bool
    """False for a charge id seen before: nothing changed."""


async def credit_star_payment(
    uow: UnitOfWork,
    policy: StarsPolicy,
    *,
    user_id: int,
    charge_id: str,
    payload: str,
    currency: str,
    total_amount: int,
) -> StarCredit:
    """Credit a `successful_payment` to the payer, once per charge id (caller commits).

    The payload's amount is credited when the Stars paid match it; otherwise (which a
    validated checkout does not allow) what the Stars are worth, rounded down.

    Runs inside the caller's unit of work; does not commit.
    """
    if not charge_id:
        raise DomainError("a Stars payment without a charge id")
    existing = await uow.stars.get_by_charge_id(charge_id)
    if existing is not None:
        return StarCredit(existing, created=False)
    decoded = StarsPayload.decode(payload)
    matches = (
        decoded is not None
        and decoded.user_id == user_id
        and currency == STARS_CURRENCY
        and decoded.stars == total_amount
    )
    amount = decoded.amount if decoded is not None and matches else policy.value_of(total_amount)
    product_id = decoded.product_id if decoded is not None and matches else None
    payment = await uow.stars.record(
        charge_id=charge_id,
        user_id=user_id,
        stars=total_amount,
        amount=amount,
        payload=payload[:MAX_PAYLOAD_BYTES],
        product_id=product_id,
    )
    if payment is None:  # a concurrent twin recorded it first
        twin = await uow.stars.get_by_charge_id(charge_id)
        if twin is None:
            raise RuntimeError(f"Stars payment {charge_id} vanished")
        return StarCredit(twin, created=False)
    if amount > 0:
        await uow.ledger.post(
            transfer(
                idempotency_keys.stars_credit(charge_id),
                TransactionKind.TOPUP,
                source=SystemAccount.STARS,
                destination=user_account(user_id),
                amount=amount,
                memo=f"Telegram Stars: {total_amount} XTR",
            )
        )
    return StarCredit(payment, created=True)


class StarsRefundRefused(DomainError):
    """Telegram answered the refund with a definite refusal: nothing was refunded."""


class StarsAlreadyRefunded(DomainError):
    """Telegram says this charge was refunded already."""


class StarsRefundUncertain(DomainError):
    """No clear answer (network, server error, flood limit): the refund may or may not
    have happened; ask again later."""


class StarsRefunder(Protocol):
    async def refund(self, *, user_id: int, charge_id: str) -> None:
        """Raises StarsRefundRefused, StarsAlreadyRefunded or StarsRefundUncertain."""
        ...


class StarRefundOutcome(StrEnum):
    REFUNDED = "refunded"
    REFUSED = "refused"
    """Telegram refused; the balance was restored."""
    UNCERTAIN = "uncertain"
    """The balance stays held; ask again."""


@dataclass(frozen=True, slots=True)
class StarRefundResult:
    payment: StarPayment
    outcome: StarRefundOutcome
    error: str | None = None


RETRYABLE = frozenset({StarRefundState.NONE, StarRefundState.REQUESTED})


async def refund_star_payment(
    uow_factory: UnitOfWorkFactory, refunder: StarsRefunder, *, payment_id: int, actor: str
) -> StarRefundResult:
    """Refund a Stars payment to the payer. Raises InsufficientFunds when the balance
    no longer covers it (nothing is sent), OrderStateError when it cannot be refunded.

    Takes a unit-of-work factory: commits around the network call to Telegram
    (refundStarPayment): the hold is committed before it, its outcome settled in another
    transaction after."""
    async with uow_factory() as uow:
        payment = await uow.stars.get(payment_id)
        if payment is None:
            raise NotFound(f"Stars payment {payment_id} not found")
        if payment.refund_state not in RETRYABLE:
            raise OrderStateError(
                f"the refund of Stars payment {payment_id} is {payment.refund_state}"
            )
        if payment.refund_state is StarRefundState.NONE:
            held = await uow.stars.set_refund(
                payment.id,
                allowed=frozenset({StarRefundState.NONE}),
                to=StarRefundState.REQUESTED,
            )
            if held is None:
                raise OrderStateError(f"Stars payment {payment_id} is being refunded already")
            if payment.amount > 0:
                await uow.ledger.post(_hold(payment, actor))
            await uow.commit()
            payment = held
    try:
        await refunder.refund(user_id=payment.user_id, charge_id=payment.charge_id)
    except StarsAlreadyRefunded:
        pass
    except StarsRefundUncertain as unclear:
        return StarRefundResult(payment, StarRefundOutcome.UNCERTAIN, str(unclear))
    except StarsRefundRefused as refusal:
        return StarRefundResult(
            await _release(uow_factory, payment, actor), StarRefundOutcome.REFUSED, str(refusal)
        )
    async with uow_factory() as uow:
        done = await uow.stars.set_refund(
            payment.id,
            allowed=frozenset({StarRefundState.REQUESTED}),
            to=StarRefundState.REFUNDED,
        )
        await uow.commit()
    return StarRefundResult(done or payment, StarRefundOutcome.REFUNDED)


def _hold(payment: StarPayment, actor: str) -> LedgerTransaction:
    return transfer(
        idempotency_keys.stars_refund_hold(payment.charge_id),
        TransactionKind.PROVIDER_REFUND,
        source=user_account(payment.user_id),
        destination=SystemAccount.STARS,
        amount=payment.amount,
        memo=f"refund of {payment.stars} XTR requested",
        actor=actor,
    )


async def _release(uow_factory: UnitOfWorkFactory, payment: StarPayment, actor: str) -> StarPayment:
    async with uow_factory() as uow:
        released = await uow.stars.set_refund(
            payment.id,
            allowed=frozenset({StarRefundState.REQUESTED}),
            to=StarRefundState.FAILED,
        )
        if released is not None and payment.amount > 0:
            await uow.ledger.post(
                transfer(
                    idempotency_keys.stars_refund_release(payment.charge_id),
                    TransactionKind.PROVIDER_REFUND,
                    source=SystemAccount.STARS,
                    destination=user_account(payment.user_id),
                    amount=payment.amount,
                    memo="Stars refund refused by Telegram; balance restored",
                    actor=actor,
                )
            )
        await uow.commit()
    return released or payment
