"""Tables. Alembic migrations are the only source of the schema; these models must match
them exactly (a test applies every migration and compares)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shopbot.persistence.types import BigIntPK, Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserRow(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    referrer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    is_blocked: Mapped[bool] = mapped_column(default=False)
    """Blocked by the shop (an admin's decision)."""
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The user blocked the bot (Telegram answered 403); cleared when they come back."""

    __table_args__ = (
        CheckConstraint("referrer_id IS NULL OR referrer_id <> id", name="no_self_referral"),
    )


class AccountRow(Timestamps, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Unique through `code` ('user:<id>', tied by the CHECK below): a second UNIQUE here
    # would make racing first credits of one user fail instead of merging.
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))

    __table_args__ = (
        CheckConstraint("kind <> 'user' OR balance >= 0", name="user_balance_not_negative"),
        CheckConstraint(
            "kind <> 'user' OR code = 'user:' || CAST(user_id AS TEXT)", name="user_code"
        ),
        CheckConstraint(
            "kind IN ('user', 'provider', 'revenue', 'refunds', 'adjustments')", name="kind"
        ),
        CheckConstraint("(kind = 'user') = (user_id IS NOT NULL)", name="user_link"),
    )


class LedgerTransactionRow(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT")
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)

    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        UniqueConstraint(
            "transaction_id", "account_id", name="uq_ledger_entries_transaction_account"
        ),
    )


class CategoryRow(Timestamps, Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title_ru: Mapped[str] = mapped_column(String(128))
    title_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProductRow(Timestamps, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    title_ru: Mapped[str] = mapped_column(String(128))
    title_en: Mapped[str] = mapped_column(String(128))
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Money)
    is_active: Mapped[bool] = mapped_column(default=True)
    content: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("kind IN ('stock', 'unlimited', 'manual')", name="kind"),
        CheckConstraint(
            "(kind = 'unlimited') = (content IS NOT NULL)", name="content_for_unlimited"
        ),
    )


class OrderRow(Timestamps, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    price: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(32))
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    delivery: Mapped[str | None] = mapped_column(Text)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the admins were told about this manual order (set once)."""

    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint(
            "status IN ('delivered', 'awaiting_fulfilment', 'fulfilled', 'refunded')", name="status"
        ),
    )


class StockItemRow(Base):
    __tablename__ = "stock_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # UNIQUE: an item belongs to at most one order, and an order gets at most one item.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("product_id", "content_hash", name="uq_stock_items_product_content"),
        Index(
            "ix_stock_items_available",
            "product_id",
            "id",
            postgresql_where=text("order_id IS NULL"),
            sqlite_where=text("order_id IS NULL"),
        ),
    )


class TopupInvoiceRow(Timestamps, Base):
    __tablename__ = "topup_invoices"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(128), unique=True)
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    uuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16))
    gateway_status: Mapped[str | None] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credited_amount: Mapped[Decimal | None] = mapped_column(Money)
    refund_state: Mapped[str] = mapped_column(String(16), default="none")
    refund_amount: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    then_buy_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    """A purchase the customer could not afford: completed once this top-up is credited."""
    shown_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    shown_message_id: Mapped[int | None] = mapped_column(BigInteger)
    """The Telegram message showing the invoice's Pay/Check buttons, removed once it is
    paid; both NULL when it was never shown in the bot or its buttons are gone already."""

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('pending', 'credited', 'closed', 'quarantined')", name="state"),
        CheckConstraint(
            "refund_state IN ('none', 'requested', 'paid', 'failed')", name="refund_state"
        ),
        CheckConstraint("(state = 'credited') = (credited_amount IS NOT NULL)", name="credited"),
        Index(
            "ix_topup_invoices_open",
            "created_at",
            postgresql_where=text("state = 'pending' OR refund_state = 'requested'"),
            sqlite_where=text("state = 'pending' OR refund_state = 'requested'"),
        ),
    )


class PaymentEventRow(Base):
    """Every status report received, once per (uuid, status): the webhook inbox."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    uuid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    source: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "provider", "uuid", "status", name="uq_payment_events_provider_uuid_status"
        ),
    )


class StarPaymentRow(Base):
    """Telegram Stars payments, once per telegram_payment_charge_id (the idempotency key)."""

    __tablename__ = "star_payments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    """What was credited, in the shop currency."""
    payload: Mapped[str] = mapped_column(String(128))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    """A product to buy automatically once credited."""
    refund_state: Mapped[str] = mapped_column(String(16), default="none")
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("stars > 0", name="stars_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            "refund_state IN ('none', 'requested', 'refunded', 'failed')", name="refund_state"
        ),
        CheckConstraint("(refund_state = 'refunded') = (refunded_at IS NOT NULL)", name="refunded"),
    )


class BroadcastRow(Base):
    """A broadcast job: what to send and how far it got (docs/bot.md, "Broadcasts")."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    """The confirmation's nonce: a double tap or a redelivered update starts one job."""
    created_by: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    html: Mapped[str] = mapped_column(Text)
    """The text, or the caption of a photo or document, in Telegram's HTML."""
    file_id: Mapped[str | None] = mapped_column(String(256))
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    """URL buttons, one per row: [{"label": ..., "url": ...}]."""
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("kind IN ('text', 'photo', 'document')", name="kind"),
        CheckConstraint("(kind = 'text') = (file_id IS NULL)", name="file_id"),
        CheckConstraint("status IN ('running', 'cancelled', 'done')", name="status"),
        CheckConstraint("(status = 'running') = (finished_at IS NULL)", name="finished"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )


class BroadcastRecipientRow(Base):
    """One user of a broadcast's audience snapshot, and the outcome for them."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    """1.. in the order they are sent (ascending user id)."""
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'unknown')",
            name="state",
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(
            "ix_broadcast_recipients_pending",
            "broadcast_id",
            "user_id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_broadcast_recipients_state", "broadcast_id", "state"),
    )
