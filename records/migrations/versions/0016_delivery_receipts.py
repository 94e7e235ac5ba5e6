"""Delivery receipts: the vendor's id of an accepted text or call, and what its delivery
receipt (回执) said — delivered, undelivered, answered or unanswered — with the vendor's code
and time. NULL in rows from before: they never get a receipt.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor_id", sa.String(length=100)))
        batch_op.add_column(
            sa.Column(
                "receipt",
                sa.Enum(
                    "delivered",
                    "undelivered",
                    "answered",
                    "unanswered",
                    name="deliveryreceipt",
                    native_enum=False,
                    length=32,
                ),
            )
        )
        batch_op.add_column(sa.Column("receipt_code", sa.String(length=64)))
        batch_op.add_column(sa.Column("receipt_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("receipt_checked_at", sa.DateTime(timezone=True)))
        batch_op.create_index("ix_notification_deliveries_vendor_id", ["vendor_id"], unique=False)
        batch_op.create_index("ix_notification_deliveries_sent_at", ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_deliveries_sent_at")
        batch_op.drop_index("ix_notification_deliveries_vendor_id")
        batch_op.drop_column("receipt_checked_at")
        batch_op.drop_column("receipt_at")
        batch_op.drop_column("receipt_code")
        batch_op.drop_column("receipt")
        batch_op.drop_column("vendor_id")
