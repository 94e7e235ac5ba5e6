"""Supervision (督办): a dispatched alert's dispatch and due times, when it became overdue,
re-notifications, the last urge; the supervisor user role.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_LINK = (
    "(role = 'guardian') = (guardian_id IS NOT NULL)"
    " AND (role NOT IN ('duty_officer', 'grid_worker'{}) OR staff_id IS NOT NULL)"
)


def _role_link(roles: str) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_link"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role_link"), ROLE_LINK.format(roles))


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("reminders", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("urged_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("urged_by", sa.String(length=100)))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("reminders", server_default=None)
    _role_link(", 'supervisor'")


def downgrade() -> None:
    _role_link("")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for column in (
            "urged_by",
            "urged_at",
            "reminders",
            "overdue_at",
            "due_at",
            "dispatched_at",
        ):
            batch_op.drop_column(column)
