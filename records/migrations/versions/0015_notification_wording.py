"""Notification wording: the place and the lead of a job, carried as the rules engine composed
them, so SMS and voice templates no longer parse them out of the body. NULL in rows from
before: the notifier reads those from the body.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place", sa.Text()))
        batch_op.add_column(sa.Column("lead", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("lead")
        batch_op.drop_column("place")
