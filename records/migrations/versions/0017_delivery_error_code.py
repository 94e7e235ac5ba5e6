"""Delivery error codes: why a delivery failed, classified (`no_subscription`, `no_mobile`,
`invalid_number`, `no_balance`…) beside `last_error`'s detail, for the alert page to say in
words. NULL in rows from before: the page shows their detail as it is.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODES = (
    "no_channel",
    "invalid_channel",
    "no_subscription",
    "subscription_gone",
    "push_refused",
    "no_mobile",
    "not_set_up",
    "invalid_number",
    "no_balance",
    "daily_limit",
    "template_rejected",
    "account",
    "robot_refused",
    "throttled",
    "unavailable",
    "refused",
    "withdrawn",
    "internal",
)


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "error_code",
                sa.Enum(*CODES, name="deliveryerror", native_enum=False, length=32),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_column("error_code")
