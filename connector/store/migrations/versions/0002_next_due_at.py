"""contacts.next_due_at: when a contact's next nurture touch falls due, for the scheduler.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_contacts_next_due_at"), ["next_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index(batch.f("ix_contacts_next_due_at"))
        batch.drop_column("next_due_at")
