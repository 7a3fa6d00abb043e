"""HubSpot webhook events (a JSON array of up to 100) → inbox events and dirty marks. Pure: no I/O.

HubSpot's `eventId` is not unique on its own (one change fans out to every subscription), so the
dedupe key is portal:subscription:event. `attemptNumber` is left out of it: a retry is the same event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.store.inbox import DirtyMark, InboxEvent
from webhooks.guards import fail, load_json
from webhooks.limits import by_reference

MAX_EVENTS = 1000  # HubSpot sends at most 100; more is not HubSpot, and the size limit bounds it anyway

# subscriptionType → our kind of change. "object.*" types are the generic form (objectTypeId 0-1 = contact).
KINDS = {
    "creation": "created",
    "propertyChange": "updated",
    "deletion": "deleted",
    "privacyDeletion": "privacy_deleted",
    "merge": "merged",
    "restore": "restored",
    "associationChange": "association_changed",
}
CONTACT_TYPE_ID = "0-1"
SINGLE_OBJECT_KINDS = frozenset(KINDS.values()) - {"merged", "association_changed"}


@dataclass
class HubSpotBatch:
    events: list[InboxEvent] = field(default_factory=list)
    marks: list[DirtyMark] = field(default_factory=list)
    erase: list[str] = field(default_factory=list)  # contact ids whose data must be forgotten
    ignored: dict[str, int] = field(default_factory=dict)  # counter name -> events acknowledged, not stored


def parse(body: bytes, portal_id: int | None) -> HubSpotBatch:
    data = load_json(body)
    if not isinstance(data, list):
        fail(f"expected a JSON array of events, got {type(data).__name__}")
    if len(data) > MAX_EVENTS:
        fail(f"{len(data)} events in one request; at most {MAX_EVENTS} are accepted")
    batch = HubSpotBatch()
    for index, item in enumerate(data):
        _one(batch, index, item, portal_id)
    return batch


def _ignore(batch: HubSpotBatch, reason: str) -> None:
    name = f"webhooks.hubspot.ignored.{reason}"
    batch.ignored[name] = batch.ignored.get(name, 0) + 1


def _id(value: Any, where: str) -> str:
    # Ids arrive as JSON integers; accept digit strings too, refuse anything that is not an id.
    if type(value) is int and 0 <= value < 10**20:  # the common case, without building a message
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        fail(f"{where} must be an integer id, got {type(value).__name__}")
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        fail(f"{where} must be an integer id, got {text[:40]!r}")
    return text


def _field_id(item: dict[str, Any], key: str, index: int, default: Any = None) -> str:
    value = item.get(key, default)
    if type(value) is int and 0 <= value < 10**20:
        return str(value)
    return _id(value, f"event [{index}].{key}")


def _one(batch: HubSpotBatch, index: int, item: Any, portal_id: int | None) -> None:
    if not isinstance(item, dict):
        fail(f"event [{index}] must be an object, got {type(item).__name__}")
    subscription = item.get("subscriptionType")
    if not isinstance(subscription, str) or "." not in subscription or len(subscription) > 100:
        fail(f"event [{index}].subscriptionType must be a string like 'contact.propertyChange'")
    event_id = _field_id(item, "eventId", index)
    portal = _field_id(item, "portalId", index)
    subscription_id = _field_id(item, "subscriptionId", index, 0)
    if portal_id is not None and portal != str(portal_id):
        _ignore(batch, "other_portal")
        return
    obj, _, change = subscription.partition(".")
    is_contact = obj == "contact" or (obj == "object" and str(item.get("objectTypeId")) == CONTACT_TYPE_ID)
    kind = KINDS.get(change)
    if not is_contact or kind is None:
        # HubSpot retries anything but a 2xx for a day: acknowledge what we do not use, and count it.
        _ignore(batch, subscription.replace(" ", "_")[:60])
        return
    occurred = item.get("occurredAt")
    occurred_at = None
    if type(occurred) is int and 0 < occurred < 10**14:
        occurred_at = datetime.fromtimestamp(occurred / 1000, UTC)
    if kind in SINGLE_OBJECT_KINDS:
        ids = [_field_id(item, "objectId", index)]
    else:
        ids = _contact_ids(item, kind, f"event [{index}]")
    batch.events.append(InboxEvent(
        "hubspot",
        f"{portal}:{subscription_id}:{event_id}",
        "contact",
        ids[0],
        kind,
        occurred_at,
        # A privacy deletion must leave nothing personal behind, so only its identifiers are kept.
        _privacy_safe(item) if kind == "privacy_deleted" else by_reference(item),
    ))
    marks = batch.marks
    for contact_id in ids:
        marks.append(DirtyMark("hubspot", contact_id, "contact"))
    if kind == "privacy_deleted":
        batch.erase.append(ids[0])


def _contact_ids(item: dict[str, Any], kind: str, where: str) -> list[str]:
    """The contacts an event concerns: the first one is the event's object."""
    if kind == "merged":
        primary = _id(item.get("primaryObjectId", item.get("objectId")), f"{where}.primaryObjectId")
        merged = item.get("mergedObjectIds") or []
        if not isinstance(merged, list):
            fail(f"{where}.mergedObjectIds must be a list of ids")
        extra = [_id(m, f"{where}.mergedObjectIds") for m in merged[:100]]
        new_id = item.get("newObjectId")
        if new_id is not None:
            extra.append(_id(new_id, f"{where}.newObjectId"))
        return [primary, *[e for e in extra if e != primary]]
    if kind == "association_changed":
        association = str(item.get("associationType") or "")
        contact_side = "toObjectId" if association.endswith("_TO_CONTACT") else "fromObjectId"
        return [_id(item.get(contact_side), f"{where}.{contact_side}")]
    return [_id(item.get("objectId"), f"{where}.objectId")]


def _privacy_safe(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("eventId", "subscriptionId", "portalId", "appId", "occurredAt", "subscriptionType", "attemptNumber",
            "objectId", "changeSource")
    return {key: item[key] for key in keep if key in item}
