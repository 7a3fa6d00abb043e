"""Leases (fencing tokens), person holds, and Salesforce activity hints (issue 11).

Revision ID: 0004_leases_holds
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_leases_holds"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leases")),
    )
    op.create_table(
        "holds",
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("lease_id", ID, nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_holds")),
    )
    op.create_index(op.f("ix_holds_lease_id"), "holds", ["lease_id"], unique=False)
    op.create_table(
        "activity_hints",
        sa.Column("sobject", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=18), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sobject", "record_id", name=op.f("pk_activity_hints")),
    )
    op.create_index(op.f("ix_activity_hints_person_id"), "activity_hints", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_activity_hints_person_id"), table_name="activity_hints")
    op.drop_table("activity_hints")
    op.drop_index(op.f("ix_holds_lease_id"), table_name="holds")
    op.drop_table("holds")
    op.drop_table("leases")
