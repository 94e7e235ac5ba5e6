"""Dispatch assignee: whom a dispatch (派单) named, on its audit row, so the rules engine can
tell them and the alert page can show whether they were told.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer()))
        batch_op.create_foreign_key(
            op.f("fk_alert_transitions_assignee_id_staff"),
            "staff",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_transitions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_alert_transitions_assignee_id_staff"), type_="foreignkey")
        batch_op.drop_column("assignee_id")
