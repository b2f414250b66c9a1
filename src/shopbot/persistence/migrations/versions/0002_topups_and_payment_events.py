"""heleket top-up invoices and the payment event inbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopbot.persistence.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "received_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "uuid", "status", name="uq_payment_events_provider_uuid_status"
        ),
    )
    op.create_index(
        op.f("ix_payment_events_order_id"), "payment_events", ["order_id"], unique=False
    )
    op.create_table(
        "topup_invoices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=True),
        sa.Column("amount", shopbot.persistence.types.Money(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("gateway_status", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "expires_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "credited_amount", shopbot.persistence.types.Money(precision=18, scale=2), nullable=True
        ),
        sa.Column("refund_state", sa.String(length=16), nullable=False),
        sa.Column(
            "refund_amount", shopbot.persistence.types.Money(precision=18, scale=2), nullable=True
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "(state = 'credited') = (credited_amount IS NOT NULL)",
            name=op.f("ck_topup_invoices_credited"),
        ),
        sa.CheckConstraint(
            "refund_state IN ('none', 'requested', 'paid', 'failed')",
            name=op.f("ck_topup_invoices_refund_state"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'credited', 'closed', 'quarantined')",
            name=op.f("ck_topup_invoices_state"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_topup_invoices_amount_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_topup_invoices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topup_invoices")),
        sa.UniqueConstraint("order_id", name=op.f("uq_topup_invoices_order_id")),
        sa.UniqueConstraint("request_key", name=op.f("uq_topup_invoices_request_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_topup_invoices_uuid")),
    )
    op.create_index(
        "ix_topup_invoices_open",
        "topup_invoices",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending' OR refund_state = 'requested'"),
        sqlite_where=sa.text("state = 'pending' OR refund_state = 'requested'"),
    )
    op.create_index(op.f("ix_topup_invoices_user_id"), "topup_invoices", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_topup_invoices_user_id"), table_name="topup_invoices")
    op.drop_index(
        "ix_topup_invoices_open",
        table_name="topup_invoices",
        postgresql_where=sa.text("state = 'pending' OR refund_state = 'requested'"),
        sqlite_where=sa.text("state = 'pending' OR refund_state = 'requested'"),
    )
    op.drop_table("topup_invoices")
    op.drop_index(op.f("ix_payment_events_order_id"), table_name="payment_events")
    op.drop_table("payment_events")
