"""Device assignments: the audit trail of staff assigning or dismissing the devices on the
sensor bridge's unassigned list.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROTOCOL = sa.Enum(
    "zigbee2mqtt", "homeassistant", name="deviceprotocol", native_enum=False, length=32
)


def upgrade() -> None:
    op.create_table(
        "device_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("protocol", PROTOCOL, nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("covers", sa.String(length=100), nullable=False),
        sa.Column("previous", sa.String(length=400), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_assignments")),
    )
    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_device_assignments_device", ["protocol", "address"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("device_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_device_assignments_device")
    op.drop_table("device_assignments")
