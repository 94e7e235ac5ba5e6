"""The device table of camera-native events (GB/T 28181 devices and channels).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("camera", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password", sa.String(length=100), nullable=True),
        sa.Column("device", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_devices")),
        sa.UniqueConstraint("code", name=op.f("uq_camera_devices_code")),
    )


def downgrade() -> None:
    op.drop_table("camera_devices")
