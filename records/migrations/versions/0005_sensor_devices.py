"""Sensor devices: which Zigbee2MQTT or Home Assistant device is which wire-contract sensor, and
the devices the sensor bridge heard that nobody assigned yet.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROTOCOL = sa.Enum(
    "zigbee2mqtt", "homeassistant", name="deviceprotocol", native_enum=False, length=32
)


def upgrade() -> None:
    op.create_table(
        "sensor_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol", PROTOCOL, nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_devices")),
        sa.UniqueConstraint("protocol", "address", name=op.f("uq_sensor_devices_protocol")),
    )
    with op.batch_alter_table("sensor_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sensor_devices_device"), ["device"], unique=False)
    op.create_table(
        "unassigned_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol", PROTOCOL, nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("friendly_name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("suggested_kinds", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("last_payload", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unassigned_devices")),
        sa.UniqueConstraint("protocol", "address", name=op.f("uq_unassigned_devices_protocol")),
    )


def downgrade() -> None:
    op.drop_table("unassigned_devices")
    with op.batch_alter_table("sensor_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_devices_device"))
    op.drop_table("sensor_devices")
