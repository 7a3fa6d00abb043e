"""Computed report snapshots, and the indexes the dashboard and reports read by: audit by system, action
and time (CRM health, activity filters) and by field (lifecycle transitions), inbox by arrival time
(intake rate), engagement by time (periods).

Revision ID: 0005_report_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_report_indexes"
down_revision = "0003_problems"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("since", sa.String(32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("since", name=op.f("pk_report_snapshots")),
    )
    op.create_index("ix_audit_system_action_at", "audit", ["system", "action", "at"])
    op.create_index("ix_audit_field", "audit", ["field"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])
    op.create_index("ix_engagement_occurred_at", "engagement", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_engagement_occurred_at", "engagement")
    op.drop_index("ix_inbox_received_at", "inbox")
    op.drop_index("ix_audit_field", "audit")
    op.drop_index("ix_audit_system_action_at", "audit")
    op.drop_table("report_snapshots")
