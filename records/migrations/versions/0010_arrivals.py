"""Arrivals: who of the staff marked 已到场 on an alert and when, and when the rules engine
said nobody was on site in time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("arrived_by", sa.String(length=100)))
        batch_op.add_column(sa.Column("arrival_missed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("arrival_missed_at")
        batch_op.drop_column("arrived_by")
        batch_op.drop_column("arrived_at")
