"""The store's history for reports: contacts and their brain state, lifecycle writes from the audit log,
and the engagement ledger, turned into connector.core.history.History (plain data) in three queries.

Where a stage was reached: the first audit row that wrote it to either CRM (the write-back of
`lifecycle_stage`), else the brain's own `lifecycle_at` for the stage it holds now. Persona and
segments: the last value written back. Engagement belongs to a contact by contact id, HubSpot id,
Salesforce id or email, in that order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from connector.core.conditions import as_datetime
from connector.core.history import RANK, Activity, History, Person, Report, Touch
from connector.settings import Settings
from connector.settings.mapping_config import Writeback
from connector.store.models import audit, contacts, engagement

# Engagement this long before the period still matters (the sources report looks back 30 days).
LOOKBACK = timedelta(days=45)


def writeback_fields(settings: Settings, output: str) -> dict[str, dict[str, str]]:
    """CRM field name -> {CRM value: canonical value} for one brain output, both CRMs."""
    wb = settings.mapping.writeback
    found = {}
    for targets in (wb.hubspot, wb.salesforce):
        if output in targets:
            name, values = Writeback.target(targets[output])
            found[name] = {str(v): k for k, v in values.items()}
    return found


def load_history(engine: Engine, settings: Settings, since: datetime, now: datetime | None = None,
                 contact_ids: list[int] | None = None) -> History:
    now = now or datetime.now(UTC)
    stage_fields = writeback_fields(settings, "lifecycle_stage")
    persona_fields = writeback_fields(settings, "persona")
    segment_fields = writeback_fields(settings, "segments")
    people: dict[int, Person] = {}
    by_key: dict[tuple[str, str], int] = {}
    with engine.connect() as conn:
        query = select(contacts.c.id, contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id,
                       contacts.c.brain, contacts.c.synced, contacts.c.created_at).where(
            contacts.c.deleted_at.is_(None))
        if contact_ids is not None:
            query = query.where(contacts.c.id.in_(contact_ids))
        for row in conn.execute(query):
            people[row.id] = _person(row)
            for column in ("hubspot_id", "salesforce_id", "email"):
                value = getattr(row, column)
                if value:
                    by_key[(column, str(value).lower() if column == "email" else str(value))] = row.id
        fields = [*stage_fields, *persona_fields, *segment_fields]
        audit_q = select(audit.c.contact_id, audit.c.at, audit.c.field, audit.c.after).where(
            audit.c.action.in_(["update", "create"]), audit.c.field.in_(fields), audit.c.contact_id.is_not(None))
        if contact_ids is not None:
            audit_q = audit_q.where(audit.c.contact_id.in_(contact_ids))
        for row in conn.execute(audit_q.order_by(audit.c.id)):
            person = people.get(row.contact_id)
            if person is None or row.after in (None, ""):
                continue
            at = as_datetime(row.at) or now
            if row.field in stage_fields:
                stage = stage_fields[row.field].get(str(row.after), str(row.after))
                if stage in RANK and (stage not in person.reached or at < person.reached[stage]):
                    person.reached[stage] = at
            elif row.field in persona_fields:
                person.persona = persona_fields[row.field].get(str(row.after), str(row.after))
            else:
                person.segments = tuple(s for s in str(row.after).split(";") if s)
        events_q = select(engagement.c.contact_id, engagement.c.hubspot_id, engagement.c.salesforce_id,
                          engagement.c.email, engagement.c.event_type, engagement.c.occurred_at, engagement.c.source,
                          engagement.c.content_id).where(engagement.c.occurred_at >= since - LOOKBACK)
        if contact_ids is not None:
            emails = [p.email for p in people.values() if p.email]
            events_q = events_q.where(or_(engagement.c.contact_id.in_(contact_ids),
                                          and_(engagement.c.email.is_not(None), engagement.c.email.in_(emails)),
                                          *_id_clauses(by_key)))
        for row in conn.execute(events_q.order_by(engagement.c.occurred_at)):
            owner = _owner(row, by_key)
            if owner is not None and owner in people:
                people[owner].activity.append(Activity(row.event_type, as_datetime(row.occurred_at) or now,
                                                       row.source, row.content_id))
    for person in people.values():
        if person.activity and any(a.type == "unsubscribe" for a in person.activity):
            person.unsubscribed = True
    return History(list(people.values()), now, since)


def _person(row: Any) -> Person:
    brain = row.brain or {}
    created = as_datetime(row.created_at) or datetime.now(UTC)
    stage = brain.get("lifecycle") or "subscriber"
    person = Person(row.id, row.email, stage, created, track=brain.get("track"),
                    unsubscribed=bool((row.synced or {}).get("email_optout")))
    since = as_datetime(brain.get("lifecycle_at"))
    if since is not None and stage in RANK:
        person.reached[stage] = since
    for entry in brain.get("sent") or ():
        track, _, touch = str(entry[0]).partition(":")
        at = as_datetime(entry[1])
        if at is not None:
            person.sent.append(Touch(track, touch, at, entry[2] if len(entry) > 2 else None,
                                     entry[3] if len(entry) > 3 else None))
    return person


def _id_clauses(by_key: dict[tuple[str, str], int]) -> list[Any]:
    hubspot = [v for (k, v) in by_key if k == "hubspot_id"]
    salesforce = [v for (k, v) in by_key if k == "salesforce_id"]
    return [engagement.c.hubspot_id.in_(hubspot), engagement.c.salesforce_id.in_(salesforce)]


def _owner(row: Any, by_key: dict[tuple[str, str], int]) -> int | None:
    if row.contact_id is not None:
        return int(row.contact_id)
    for column in ("hubspot_id", "salesforce_id", "email"):
        value = getattr(row, column)
        if value:
            found = by_key.get((column, str(value).lower() if column == "email" else str(value)))
            if found is not None:
                return found
    return None


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`90d`, `12w`, `6m` (30-day months), `1y`, or a date `2026-01-31`; ValueError says what is accepted."""
    now = now or datetime.now(UTC)
    text = text.strip().lower()
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - timedelta(days=int(text[:-1]) * units[text[-1]])
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a period — use 90d, 12w, 6m, 1y or a date like 2026-01-31") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


REPORTS = ("funnel", "velocity", "cohorts", "tracks", "sources", "ab")


def build_report(name: str, history: History, settings: Settings) -> Report:
    """One report by name: the single entry point the CLI and the dashboard share."""
    from connector.core import report_tracks, reports

    if name == "tracks":
        return report_tracks.tracks(history, settings.nurture)
    if name == "ab":
        return report_tracks.ab(history, settings.nurture)
    builders = {"funnel": reports.funnel, "velocity": reports.velocity, "cohorts": reports.cohorts,
                "sources": reports.sources}
    if name not in builders:
        raise ValueError(f"unknown report {name!r} (valid: {', '.join(REPORTS)})")
    return builders[name](history)
