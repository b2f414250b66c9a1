"""Typed callback data. Every button the bot shows is one of these, and each has a
handler; prefixes are short because Telegram allows 64 bytes of callback data."""

from aiogram.filters.callback_data import CallbackData


class MenuCB(CallbackData, prefix="m"):
    to: str
    """catalog | balance | topup | orders | support | language | home"""
    keep: bool = False
    """Pressed under a message that must stay in the chat (goods, receipts, refunds):
    the screen opens in a new message instead of replacing that one."""


class LanguageCB(CallbackData, prefix="lang"):
    code: str


class CategoryCB(CallbackData, prefix="cat"):
    category_id: int
    """0: products without a category."""
    page: int = 0


class ProductCB(CallbackData, prefix="prod"):
    product_id: int
    category_id: int = 0
    page: int = 0


class BuyCB(CallbackData, prefix="buy"):
    product_id: int
    nonce: str = ""
    """Set on the confirm button: the purchase's request key, so a double tap buys once."""


class TopupCB(CallbackData, prefix="top"):
    amount_cents: int = 0
    """0: ask for the amount."""
    product_id: int = 0
    """Buy this product automatically once the top-up is credited."""
    keep: bool = False
    """Pressed under a payment notice: the screen opens below it (see MenuCB.keep)."""


class OrderCB(CallbackData, prefix="ord"):
    order_id: int


class FulfilCB(CallbackData, prefix="ful"):
    """An admin's "mark fulfilled" button on a manual order."""

    order_id: int


class TopupMethodCB(CallbackData, prefix="tpm"):
    """Pay an amount (in cents) with `method`: heleket | stars."""

    method: str
    amount_cents: int
    product_id: int = 0


class CheckPaymentCB(CallbackData, prefix="chk"):
    """Ask Heleket about a top-up invoice now."""

    invoice_id: int


class AdminCB(CallbackData, prefix="adm"):
    """Admin menu sections: stats | products | users | payments | broadcast | home."""

    to: str


class AdminProductCB(CallbackData, prefix="admp"):
    product_id: int
    action: str
    """show | toggle | edit | stock"""


class AdminUserCB(CallbackData, prefix="admu"):
    user_id: int
    action: str
    """show | adjust | orders"""


class RefundCB(CallbackData, prefix="rf"):
    """An admin's refund button: kind order | stars | heleket, `ref` the order id, Stars
    charge id row id, or top-up invoice id."""

    kind: str
    ref: int
