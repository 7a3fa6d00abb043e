"""Salesforce activity from outbound messages is a hint, believed only once read back from Salesforce.

An outbound message carries no signature: its OrganizationId is public to anyone who ever saw one, so a
forged message could claim a completed call or a campaign response (docs/SECURITY.md). The edge stores
such a message as a hint (the record's type and id); before the worker reconciles the person, it reads
each hinted record through the API and derives the engagement fact from what Salesforce says. A record
Salesforce does not return (forged, or deleted) yields nothing. The fact's key is the same as before,
so a hint read twice still counts once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select, tuple_

from connector.crm.salesforce import SalesforceClient
from connector.store.inbox import HINT_SOURCE, EngagementFact, write
from connector.store.models import activity_hints

log = logging.getLogger(__name__)

PERSON_PREFIXES = {"00Q": "Lead", "003": "Contact"}
READ_FIELDS = {
    "Task": ["Status", "TaskSubtype", "WhoId"],
    "Event": ["WhoId"],
    "CampaignMember": ["HasResponded", "LeadId", "ContactId", "CampaignId"],
}


def people_of(sobject: str, record_id: str, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The Lead/Contact ids a record is about (itself, for a Lead or Contact)."""
    if sobject in ("Lead", "Contact"):
        return [(record_id, sobject)]
    people = []
    for key in ("WhoId", "LeadId", "ContactId"):
        value = fields.get(key)
        if isinstance(value, str) and value[:3] in PERSON_PREFIXES:
            people.append((value, PERSON_PREFIXES[value[:3]]))
    return people


def activity_fact(sobject: str, record_id: str, fields: Mapping[str, Any], org: str,
                  when: datetime | None) -> EngagementFact | None:
    """Sales activity that counts as engagement: a completed call, a meeting, a campaign response.
    `fields` are as the API returns them (booleans as booleans) or as an outbound message spells them."""
    people = people_of(sobject, record_id, fields)
    if not people or when is None:
        return None
    event_type = None
    if sobject == "Task" and fields.get("Status") == "Completed":
        event_type = "call_completed" if fields.get("TaskSubtype") == "Call" else None
    elif sobject == "Event":
        event_type = "meeting_booked"
    elif sobject == "CampaignMember" and fields.get("HasResponded") in (True, "true"):
        event_type = "campaign_response"
    if event_type is None:
        return None
    return EngagementFact(
        event_key=f"salesforce:{org[:15]}:{sobject}:{record_id}:{event_type}",
        source="salesforce", event_type=event_type, occurred_at=when, salesforce_id=people[0][0],
        content_id=fields.get("CampaignId"), properties={"sobject": sobject, "id": record_id},
    )


def hint(sobject: str, record_id: str, person_id: str, org: str, when: datetime) -> EngagementFact:
    """What the edge stores for an activity notification (routed to activity_hints by the inbox write)."""
    return EngagementFact(event_key=f"{sobject}:{record_id}", source=HINT_SOURCE, event_type=sobject,
                          occurred_at=when, salesforce_id=person_id, properties={"org": org[:18]})


def verify_hints(engine: Engine, salesforce: SalesforceClient, person_ids: list[str], now: datetime) -> int:
    """Read back the hinted activity of these people; store the facts Salesforce confirms. Returns facts stored."""
    with engine.connect() as conn:
        rows = conn.execute(select(activity_hints).where(activity_hints.c.person_id.in_(person_ids))).all()
    if not rows:
        return 0
    facts: list[EngagementFact] = []
    done: list[tuple[str, str]] = []
    by_type: dict[str, dict[str, str]] = {}
    for row in rows:
        by_type.setdefault(row.sobject, {})[row.record_id] = row.org_id
    for sobject, wanted in by_type.items():
        fields = READ_FIELDS.get(sobject)
        if fields is not None:
            for record in salesforce.read(sobject, list(wanted), fields).values():
                fact = activity_fact(sobject, record.id, record.fields, wanted[record.id],
                                     record.updated_at or now)
                if fact is not None:
                    facts.append(fact)
        done.extend((sobject, record_id) for record_id in wanted)
    with engine.begin() as conn:
        if facts:
            write(conn, [], [], facts=facts, now=now)
        conn.execute(delete(activity_hints).where(tuple_(activity_hints.c.sobject, activity_hints.c.record_id)
                                                  .in_(done)))
    if len(facts) < len(done):
        log.info("%d of %d Salesforce activity hints were confirmed by Salesforce", len(facts), len(done))
    return len(facts)
