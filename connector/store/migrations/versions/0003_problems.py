"""problems: values that could not be synced (no mapping, wrong type), per contact and field.

Revision ID: 0003_problems
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_problems"
down_revision = "0004_leases_holds"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "problems",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index("ix_problems_contact", "problems", ["contact_id", "resolved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_problems_contact", table_name="problems")
    op.drop_table("problems")
