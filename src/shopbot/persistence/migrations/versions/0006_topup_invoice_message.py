"""topup_invoices.shown_chat_id/shown_message_id: where the invoice's Pay/Check buttons are

Once an invoice is paid its buttons are removed from that message (issue 9: paid
invoices kept offering Pay and Check).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("topup_invoices") as batch:
        batch.add_column(sa.Column("shown_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("shown_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("topup_invoices") as batch:
        batch.drop_column("shown_message_id")
        batch.drop_column("shown_chat_id")
