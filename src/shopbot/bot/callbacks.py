"""Typed callback data. Every button the bot shows is one of these, and each has a
handler; prefixes are short because Telegram allows 64 bytes of callback data."""

from enum import StrEnum
from typing import Annotated, Self

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from shopbot.domain.ids import DbId
from shopbot.domain.money import MAX_AMOUNT, to_minor_units

# Callback data comes back from the client and can be forged: every number is bounded,
# so an impossible one fails the filter (the update is then answered as stale) instead
# of reaching SQL. Ids are BIGINT (0: none), amounts fit NUMERIC(18, 2).
Cents = Annotated[int, Field(ge=0, le=to_minor_units(MAX_AMOUNT))]
Page = Annotated[int, Field(ge=0, le=1_000_000)]


# A button's action is one of these members; each value is the exact text already packed
# into buttons sitting in chats, so it must never change. A value that is none of them
# fails the filter, and the press is answered as stale, as any unknown action always was.


class MenuTarget(StrEnum):
    """Where a customer's menu button leads (MenuCB.to)."""

    CATALOG = "catalog"
    BALANCE = "balance"
    TOPUP = "topup"
    ORDERS = "orders"
    SUPPORT = "support"
    LANGUAGE = "language"
    HOME = "home"


class PaymentMethod(StrEnum):
    """How a top-up is paid (TopupMethodCB.method)."""

    HELEKET = "heleket"
    STARS = "stars"


class AdminSection(StrEnum):
    """A section of the admin menu (AdminCB.to)."""

    STATS = "stats"
    PRODUCTS = "products"
    USERS = "users"
    PAYMENTS = "payments"
    FULFIL = "fulfil"
    BROADCAST = "broadcast"
    HOME = "home"


class AdminProductAction(StrEnum):
    """A button on an admin's product card (AdminProductCB.action)."""

    SHOW = "show"
    TOGGLE = "toggle"
    EDIT = "edit"
    STOCK = "stock"


class AdminUserAction(StrEnum):
    """A button on an admin's user card (AdminUserCB.action)."""

    SHOW = "show"
    ADJUST = "adjust"
    ORDERS = "orders"
    STARS = "stars"


class RefundKind(StrEnum):
    """What an admin refunds (RefundCB.kind, MoneyCB.action): an order to the balance, a
    Stars payment or a Heleket top-up to where it came from."""

    ORDER = "order"
    STARS = "stars"
    HELEKET = "heleket"


class DialogAction(StrEnum):
    """A button inside an admin dialog (AdminDialogCB.action)."""

    CANCEL = "cancel"
    KEEP = "keep"
    SKIP = "skip"
    KIND = "kind"
    CATEGORY = "category"
    SAVE = "save"
    NEW_PRODUCT = "new_product"
    CREDIT = "credit"
    DEBIT = "debit"
    ADJUST_OK = "adjust_ok"


class BroadcastAction(StrEnum):
    """Send or cancel a previewed broadcast, or skip its buttons (BroadcastCB.action)."""

    SEND = "send"
    CANCEL = "cancel"
    SKIP = "skip"


class SupportAction(StrEnum):
    """A button of the support dialog (SupportCB.action)."""

    CANCEL = "cancel"


class Extensible(CallbackData, prefix="~"):
    """Callback data that gained trailing fields with defaults after its buttons were
    sent. A button already in a chat keeps its old, shorter data forever, and aiogram
    refuses data with fewer parts than fields, so the old Menu button under last week's
    delivery would stop working; here the missing trailing fields take their defaults.
    Never the other way round: extra parts, or a missing field without a default, are
    refused as aiogram does."""

    @classmethod
    def unpack(cls, value: str) -> Self:
        parts = value.split(cls.__separator__)
        missing = list(cls.model_fields.values())[max(len(parts) - 1, 0) :]
        if missing and len(parts) > 1 and all(not field.is_required() for field in missing):
            padding = [
                ""
                if f.default is None
                else str(int(f.default) if isinstance(f.default, bool) else f.default)
                for f in missing
            ]
            value = cls.__separator__.join([*parts, *padding])
        return super().unpack(value)


class MenuCB(Extensible, prefix="m"):
    to: MenuTarget
    keep: bool = False
    """Pressed under a message that must stay in the chat (goods, receipts, refunds):
    the screen opens in a new message instead of replacing that one."""


class LanguageCB(CallbackData, prefix="lang"):
    code: str


class CategoryCB(CallbackData, prefix="cat"):
    category_id: DbId
    """0: products without a category."""
    page: Page = 0


class ProductCB(CallbackData, prefix="prod"):
    product_id: DbId
    category_id: DbId = 0
    page: Page = 0


class BuyCB(CallbackData, prefix="buy"):
    product_id: DbId
    nonce: str = ""
    """Set on the confirm button: the purchase's request key, so a double tap buys once."""


class TopupCB(Extensible, prefix="top"):
    amount_cents: Cents = 0
    """0: ask for the amount."""
    product_id: DbId = 0
    """Buy this product automatically once the top-up is credited."""
    keep: bool = False
    """Pressed under a payment notice: the screen opens below it (see MenuCB.keep)."""


class OrderCB(CallbackData, prefix="ord"):
    order_id: DbId


class FulfilCB(CallbackData, prefix="ful"):
    """An admin's "mark fulfilled" button on a manual order."""

    order_id: DbId


class TopupMethodCB(CallbackData, prefix="tpm"):
    """Pay an amount (in cents) with `method`."""

    method: PaymentMethod
    amount_cents: Cents
    product_id: DbId = 0


class CheckPaymentCB(CallbackData, prefix="chk"):
    """Ask Heleket about a top-up invoice now."""

    invoice_id: DbId


class AdminCB(CallbackData, prefix="adm"):
    """Admin menu sections."""

    to: AdminSection


class AdminProductCB(CallbackData, prefix="admp"):
    product_id: DbId
    action: AdminProductAction


class AdminUserCB(CallbackData, prefix="admu"):
    user_id: DbId
    action: AdminUserAction


class RefundCB(CallbackData, prefix="rf"):
    """An admin's refund button: `ref` the order id, Stars charge id row id, or top-up
    invoice id."""

    kind: RefundKind
    ref: DbId


class BroadcastStopCB(CallbackData, prefix="admbx"):
    """The Cancel button under a running broadcast's progress message (its handler is in
    the admin router, behind its AdminOnly gate)."""

    broadcast_id: DbId
