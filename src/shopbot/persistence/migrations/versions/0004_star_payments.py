"""telegram stars payments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopbot.persistence.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "star_payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("charge_id", sa.String(length=160), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("amount", shopbot.persistence.types.Money(precision=18, scale=2), nullable=False),
        sa.Column("payload", sa.String(length=128), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("refund_state", sa.String(length=16), nullable=False),
        sa.Column(
            "refunded_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint("stars > 0", name=op.f("ck_star_payments_stars_positive")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_star_payments_amount_not_negative")),
        sa.CheckConstraint(
            "refund_state IN ('none', 'requested', 'refunded', 'failed')",
            name=op.f("ck_star_payments_refund_state"),
        ),
        sa.CheckConstraint(
            "(refund_state = 'refunded') = (refunded_at IS NOT NULL)",
            name=op.f("ck_star_payments_refunded"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_star_payments_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_star_payments_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_star_payments")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_star_payments_charge_id")),
    )
    op.create_index(op.f("ix_star_payments_user_id"), "star_payments", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_star_payments_user_id"), table_name="star_payments")
    op.drop_table("star_payments")
