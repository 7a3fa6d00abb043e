"""The store's tables (SQLAlchemy 2 Core tables on one MetaData, shared by the ORM-free code paths).

Core tables rather than ORM classes: the hot paths (webhook inbox, dirty-mark claims, the rescore
stream) are bulk statements, and Core keeps them plain and fast on both SQLite and PostgreSQL.
Alembic migrations under migrations/versions must be kept in step with this file; a test compares
them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Naming conventions make constraint names identical on SQLite and PostgreSQL, so migrations can name them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids on PostgreSQL, but SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")

# One person as the connector knows them: their record in each CRM, and the base of the three-way merge.
contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), index=True),  # normalized match key; not an identity
    Column("hubspot_id", String(64), unique=True),
    Column("salesforce_id", String(18), unique=True),
    Column("salesforce_type", String(16)),  # Lead | Contact
    Column("synced", JSON, nullable=False, default=dict),  # canonical field -> last value synced
    Column("brain", JSON, nullable=False, default=dict),  # last computed score/segments/stage, for explain
    Column("next_due_at", DateTime(timezone=True), index=True),  # when the scheduler next wakes this contact
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)

# Every accepted webhook event, once: the unique key makes redelivery a no-op.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),  # hubspot | salesforce | engagement | poll
    Column("source_event_id", String(128), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # created | updated | deleted | merged | ...
    Column("occurred_at", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("source", "source_event_id"),
    Index("ix_inbox_object", "source", "object_id"),
)

# "This record may have changed": level-triggered work for the worker. `version` grows with each mark,
# so a worker clears a mark only if nobody re-marked it while it was working.
dirty = Table(
    "dirty",
    metadata,
    Column("system", String(16), primary_key=True),  # hubspot | salesforce
    Column("object_id", String(64), primary_key=True),
    Column("object_type", String(32), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("marked_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),  # backoff after failures pushes this out
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    Column("urgent", Boolean, nullable=False, default=True),  # webhook-driven vs backfill/poll work
    Index("ix_dirty_due", "due_at"),
)

# Engagement facts with ids: stored once, read by scoring. Replaying them changes nothing.
engagement = Table(
    "engagement",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_key", String(200), nullable=False, unique=True),  # source + stable id
    Column("source", String(32), nullable=False),
    Column("event_type", String(64), nullable=False),  # canonical: email_open, webinar_attend, ...
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("email", String(320), index=True),
    Column("hubspot_id", String(64), index=True),
    Column("salesforce_id", String(18), index=True),
    Column("contact_id", Id, index=True),
    Column("content_id", String(200)),  # which piece of content, for the content-interaction counter
    Column("properties", JSON, nullable=False, default=dict),
)

# Every write the connector made (or planned, in a dry run), with the rule that caused it.
audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("contact_id", Id, index=True),
    Column("system", String(16), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64)),
    Column("action", String(32), nullable=False),  # create | update | delete | task | enroll | error
    Column("field", String(128)),
    Column("before", JSON),
    Column("after", JSON),
    Column("rule", String(200)),
    Column("message", Text),
)

# Writes a CRM refused for good (validation, picklist, duplicate rule): visible and replayable.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(36)),
    Column("contact_id", Id, index=True),
    Column("system", String(16), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64)),
    Column("operation", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("error_code", String(64)),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("resolved_at", DateTime(timezone=True)),
)

# High-water marks for incremental polling and resumable backfills.
cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Counters shared by all processes: rejected webhooks by reason, API budget windows.
counters = Table(
    "counters",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Float, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per claimed batch: its id is the fencing token. A heartbeat pushes `lease_until` out; a lease
# that lapsed is revoked (lease_until NULL) before anything it held is taken, so it can never be renewed.
leases = Table(
    "leases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner", String(64), nullable=False),  # host:pid:random of the worker process
    Column("host", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("renewed_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
)

# Who is thinking about a person right now. A person is known by several keys (hs:<id>, sf:<id>,
# email:<address>); a batch holds all of a person's keys, so two workers never reconcile one person.
holds = Table(
    "holds",
    metadata,
    Column("person", String(200), primary_key=True),
    Column("lease_id", Id, nullable=False, index=True),
    Column("held_at", DateTime(timezone=True), nullable=False),
)

# Salesforce activity an outbound message told us about: only a hint until the worker has read the
# record back from Salesforce (a forged message must not put a fact in the ledger).
activity_hints = Table(
    "activity_hints",
    metadata,
    Column("sobject", String(32), primary_key=True),
    Column("record_id", String(18), primary_key=True),
    Column("person_id", String(18), nullable=False, index=True),
    Column("org_id", String(18), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Values that could not be synced (a picklist value with no mapping, a value of the wrong type), per contact
# and field: what `nurture problems` lists. Open while resolved_at is null; a run that no longer finds the
# problem for that contact resolves it (the mapping was added, or someone fixed the value).
problems = Table(
    "problems",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, nullable=False),
    Column("field", String(128), nullable=False),  # canonical field
    Column("kind", String(32), nullable=False),  # unmapped | bad_value
    Column("value", JSON),
    Column("message", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("seen", Integer, nullable=False, default=1),  # runs that found it
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_problems_contact", "contact_id", "resolved_at"),
)

# Computed reports per period, so dashboard pages read one row (connector.engine.report_snapshots).
report_snapshots = Table(
    "report_snapshots",
    metadata,
    Column("since", String(32), primary_key=True),  # the period as written: "90d", "2026-01-01"
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("body", JSON, nullable=False),  # report name -> Report fields
)

# Read paths of the dashboard and reports (migration 0005_report_indexes).
Index("ix_audit_system_action_at", audit.c.system, audit.c.action, audit.c.at)
Index("ix_audit_field", audit.c.field)
Index("ix_inbox_received_at", inbox.c.received_at)
Index("ix_engagement_occurred_at", engagement.c.occurred_at)
