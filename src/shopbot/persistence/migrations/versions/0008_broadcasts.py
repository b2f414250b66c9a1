"""broadcasts and broadcast_recipients: the broadcast as a durable job

The audience is snapshotted into broadcast_recipients when the admin confirms; the
recipients' states are the cursor a restarted worker resumes from (issue 13).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shopbot.persistence.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('text', 'photo', 'document')", name=op.f("ck_broadcasts_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'text') = (file_id IS NULL)", name=op.f("ck_broadcasts_file_id")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'cancelled', 'done')", name=op.f("ck_broadcasts_status")
        ),
        sa.CheckConstraint(
            "(status = 'running') = (finished_at IS NULL)", name=op.f("ck_broadcasts_finished")
        ),
        sa.CheckConstraint("total >= 0", name=op.f("ck_broadcasts_total_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
        sa.UniqueConstraint("request_key", name=op.f("uq_broadcasts_request_key")),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column(
            "broadcast_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'unknown')",
            name=op.f("ck_broadcast_recipients_state"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_broadcast_recipients_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_recipients_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "user_id", name=op.f("pk_broadcast_recipients")),
    )
    op.create_index(
        "ix_broadcast_recipients_pending",
        "broadcast_recipients",
        ["broadcast_id", "user_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_broadcast_recipients_state",
        "broadcast_recipients",
        ["broadcast_id", "state"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_broadcast_recipients_state", table_name="broadcast_recipients")
    op.drop_index("ix_broadcast_recipients_pending", table_name="broadcast_recipients")
    op.drop_table("broadcast_recipients")
    op.drop_table("broadcasts")
