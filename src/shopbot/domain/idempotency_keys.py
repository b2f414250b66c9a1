"""Every idempotency key the shop writes, spelled in one place.

A ledger posting key (UNIQUE in `ledger_transactions`) makes a ledger transaction happen at
most once; a request key (UNIQUE in `orders` and `topup_invoices`) makes a purchase or a
top-up invoice be created at most once. Rows already in databases hold these exact
strings, and a replayed webhook or update finds its earlier effect by them: changing a
spelling here would let a replay credit, charge or refund a second time.
"""

# Ledger posting keys, one function per kind of ledger transaction. A Heleket invoice's
# uuid is typed optional as the invoice row's is; every invoice with money on it has one.


def heleket_credit(invoice_uuid: str | None) -> str:
    """A Heleket top-up credited to the payer: `heleket:<invoice uuid>:credit`."""
    return f"heleket:{invoice_uuid}:credit"


def heleket_refund_hold(invoice_uuid: str | None) -> str:
    """A crypto refund requested: the amount leaves the balance for the held account,
    `heleket:<invoice uuid>:refund-hold`."""
    return f"heleket:{invoice_uuid}:refund-hold"


def heleket_refund_paid(invoice_uuid: str | None) -> str:
    """Heleket paid the refund out: the hold goes to the provider,
    `heleket:<invoice uuid>:refund`."""
    return f"heleket:{invoice_uuid}:refund"


def heleket_refund_release(invoice_uuid: str | None) -> str:
    """A crypto refund refused or failed: the hold goes back to the balance,
    `heleket:<invoice uuid>:refund-release`."""
    return f"heleket:{invoice_uuid}:refund-release"


def stars_credit(charge_id: str) -> str:
    """A Telegram Stars payment credited: `stars:<telegram payment charge id>`."""
    return f"stars:{charge_id}"


def stars_refund_hold(charge_id: str) -> str:
    """A Stars refund requested: the amount leaves the balance, `stars:<charge id>:refund`."""
    return f"stars:{charge_id}:refund"


def stars_refund_release(charge_id: str) -> str:
    """A Stars refund Telegram refused: the balance is restored,
    `stars:<charge id>:refund-release`."""
    return f"stars:{charge_id}:refund-release"


def order_debit(order_id: int) -> str:
    """A purchase paid from the balance: `order:<order id>:debit`."""
    return f"order:{order_id}:debit"


def order_refund(order_id: int) -> str:
    """An order refunded to the balance: `order:<order id>:refund`."""
    return f"order:{order_id}:refund"


def cli_adjustment(key: str) -> str:
    """An operator's balance adjustment from the CLI: `adjust:<--idempotency-key or a
    fresh uuid>`."""
    return f"adjust:{key}"


def admin_adjustment(nonce: str) -> str:
    """An admin's balance adjustment confirmed in the bot: `adjust:tg-<confirmation
    nonce>`, so a double tap on the confirm button posts once."""
    return f"adjust:tg-{nonce}"


# Request keys: one purchase or one top-up invoice per key.


def purchase_request(telegram_user_id: int, nonce: str) -> str:
    """A purchase confirmed in the bot: `tg:<user id>:<confirm button nonce>`."""
    return f"tg:{telegram_user_id}:{nonce}"


def purchase_after_topup(payment_ref: str) -> str:
    """The product bought once a top-up is credited: `after-topup:<Heleket order id or
    Stars charge id>`."""
    return f"after-topup:{payment_ref}"


def topup_request(
    telegram_user_id: int, anchor: int | str, amount_cents: int, product_id: int
) -> str:
    """A Heleket top-up asked for with a bot button: `tg:<user id>:<message id or
    callback query id>:<amount in minor units>:<product id, 0 for none>`."""
    return f"tg:{telegram_user_id}:{anchor}:{amount_cents}:{product_id}"


def next_request(key: str, suffix: int | str) -> str:
    """The request key after `key` was used up (its invoice paid or expired):
    `<key>:<attempt number or timestamp>`."""
    return f"{key}:{suffix}"


def cli_topup_request(unique: str) -> str:
    """A top-up invoice created from the CLI without --request-key: `cli:<uuid>`."""
    return f"cli:{unique}"
