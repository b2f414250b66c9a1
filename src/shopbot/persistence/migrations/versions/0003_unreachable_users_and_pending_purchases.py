"""unreachable users, purchase after top-up

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopbot.persistence.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key in place (PostgreSQL runs it directly).
    with op.batch_alter_table("topup_invoices") as batch:
        batch.add_column(
            sa.Column(
                "then_buy_product_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch.create_foreign_key(
            op.f("fk_topup_invoices_then_buy_product_id_products"),
            "products",
            ["then_buy_product_id"],
            ["id"],
        )
    op.add_column(
        "users",
        sa.Column(
            "unreachable_since", shopbot.persistence.types.UTCDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "unreachable_since")
    with op.batch_alter_table("topup_invoices") as batch:
        batch.drop_constraint(
            op.f("fk_topup_invoices_then_buy_product_id_products"), type_="foreignkey"
        )
        batch.drop_column("then_buy_product_id")
