"""The engagement webhook's JSON (one event, or {"events": [...]}) → ledger facts, inbox events, marks. Pure.

Checked by hand rather than by a JSON-schema library at request time: the messages say exactly which
field of which event is wrong, and the check costs microseconds. webhooks/openapi.py publishes the
same rules as a schema, and a test holds the two together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.store.inbox import DirtyMark, EngagementFact, InboxEvent
from webhooks.guards import fail, load_json

MAX_EVENTS = 100
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,100}$")  # printable ASCII, no spaces
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,255}$")
CONTENT_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
HUBSPOT_ID = re.compile(r"^[0-9]{1,20}$")
SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
PERSON_PREFIXES = {"00Q": "Lead", "003": "Contact"}
KNOWN_TYPES = (
    "email_open", "email_click", "email_reply", "email_bounce", "unsubscribe", "form_submit", "page_view",
    "content_download", "webinar_register", "webinar_attend", "survey_answer", "ad_click", "social_click",
    "call_completed", "meeting_booked", "demo_request", "event_attend", "trial_signup", "product_usage",
)
EVENT_FIELDS = {"id", "type", "occurred_at", "person", "content_id", "properties"}
PERSON_FIELDS = {"email", "hubspot_id", "salesforce_id"}


@dataclass
class EngagementBatch:
    facts: list[EngagementFact] = field(default_factory=list)
    events: list[InboxEvent] = field(default_factory=list)
    marks: list[DirtyMark] = field(default_factory=list)


def parse(body: bytes, source: str) -> EngagementBatch:
    data = load_json(body)
    if isinstance(data, dict) and "events" in data:
        if set(data) != {"events"}:
            fail(f"a batch has only the key 'events'; unexpected: {sorted(set(data) - {'events'})}")
        items = data["events"]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_EVENTS:
            fail(f"'events' must be a list of 1 to {MAX_EVENTS} events")
        prefix = "events"
    elif isinstance(data, dict):
        items, prefix = [data], "event"
    else:
        fail("expected a JSON object: one event, or {\"events\": [...]}")
    batch = EngagementBatch()
    for index, item in enumerate(items):
        _one(batch, item, source, f"{prefix}[{index}]" if prefix == "events" else prefix)
    return batch


def _string(item: dict[str, Any], key: str, where: str, pattern: re.Pattern[str], hint: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        fail(f"{where}.{key} must be {hint}")
    return value


def _one(batch: EngagementBatch, item: Any, source: str, where: str) -> None:
    if not isinstance(item, dict):
        fail(f"{where} must be an object")
    unknown = set(item) - EVENT_FIELDS
    if unknown:
        fail(f"{where} has unknown fields {sorted(unknown)}; allowed: {sorted(EVENT_FIELDS)}")
    event_id = _string(item, "id", where, EVENT_ID, "a string of 1-100 printable characters, unique per source")
    event_type = _string(item, "type", where, EVENT_TYPE, "snake_case like 'webinar_attend'")
    occurred_at = _when(item.get("occurred_at"), f"{where}.occurred_at")
    person = item.get("person")
    if not isinstance(person, dict) or not person or set(person) - PERSON_FIELDS:
        fail(f"{where}.person must be an object with at least one of {sorted(PERSON_FIELDS)} and nothing else")
    email = hubspot_id = salesforce_id = None
    if "email" in person:
        email = _string(person, "email", f"{where}.person", EMAIL, "an email address").strip().lower()
    if "hubspot_id" in person:
        hubspot_id = _string(person, "hubspot_id", f"{where}.person", HUBSPOT_ID, "a HubSpot contact id (digits)")
    if "salesforce_id" in person:
        salesforce_id = _string(person, "salesforce_id", f"{where}.person", SALESFORCE_ID,
                                "a 15- or 18-character Salesforce Lead or Contact id")
    content_id = item.get("content_id")
    if content_id is not None and (not isinstance(content_id, str) or not CONTENT_ID.fullmatch(content_id)):
        fail(f"{where}.content_id must be a string of 1-200 characters")
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        fail(f"{where}.properties must be an object")

    key = f"{source}:{event_id}"
    batch.facts.append(EngagementFact(key, source, event_type, occurred_at, email, hubspot_id, salesforce_id,
                                      content_id, properties))
    object_type, object_id = ("contact", hubspot_id) if hubspot_id else (
        (PERSON_PREFIXES.get(salesforce_id[:3], "Lead"), salesforce_id) if salesforce_id else ("email", email or ""))
    batch.events.append(InboxEvent("engagement", key, object_type, object_id[:64], event_type, occurred_at, item))
    # Engagement changes the score, so the person's record needs a fresh look. Known only by email, it
    # gets no mark: the fact waits in the ledger until the worker meets the contact by email.
    if hubspot_id:
        batch.marks.append(DirtyMark("hubspot", hubspot_id, "contact"))
    if salesforce_id:
        batch.marks.append(DirtyMark("salesforce", salesforce_id, PERSON_PREFIXES.get(salesforce_id[:3], "Lead")))


def _when(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        fail(f"{where} must be an RFC 3339 timestamp like '2026-11-20T14:03:11Z'")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            fail(f"{where} needs a time zone (Z or +hh:mm)")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        fail(f"{where} must be an RFC 3339 timestamp like '2026-11-20T14:03:11Z', got {value!r}")
