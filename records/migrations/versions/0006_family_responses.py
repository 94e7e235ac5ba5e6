"""Family responses: who of the family answered "我来处理" and when, kept apart from staff
acknowledgement; the audit trail's action kind; the rules engine's notice mark.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION = sa.Enum("status", "family_response", name="auditaction", native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_response_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("family_response_by", sa.String(length=100)))
        batch_op.add_column(
            sa.Column("notices_through", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("alert_transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", ACTION, nullable=False, server_default="status"))
    # The defaults only filled existing rows; the models give new rows their values.
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("notices_through", server_default=None)
    with op.batch_alter_table("alert_transitions", schema=None) as batch_op:
        batch_op.alter_column("action", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("alert_transitions", schema=None) as batch_op:
        batch_op.drop_column("action")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("notices_through")
        batch_op.drop_column("family_response_by")
        batch_op.drop_column("family_response_at")
