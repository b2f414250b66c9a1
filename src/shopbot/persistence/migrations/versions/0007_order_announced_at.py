"""orders.announced_at: when the admins were told about a manual order

Set once by a conditional UPDATE, so every paid manual order is announced exactly once
across redelivered updates, retries and bot instances (issue 9: a paid manual order
never reached the admins when editing the buyer's screen failed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopbot.persistence.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("announced_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("announced_at")
