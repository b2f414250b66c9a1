"""accounts.user_id: an index instead of a second UNIQUE; code and user tied by a CHECK

Two first credits of one user raced on the UNIQUE(user_id) that the upsert's
ON CONFLICT (code) does not cover; `code` ('user:<id>') already makes it unique.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("uq_accounts_user_id"), type_="unique")
        batch.create_index(op.f("ix_accounts_user_id"), ["user_id"], unique=False)
        batch.create_check_constraint(
            op.f("ck_accounts_user_code"),
            "kind <> 'user' OR code = 'user:' || CAST(user_id AS TEXT)",
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("ck_accounts_user_code"), type_="check")
        batch.drop_index(op.f("ix_accounts_user_id"))
        batch.create_unique_constraint(op.f("uq_accounts_user_id"), ["user_id"])
