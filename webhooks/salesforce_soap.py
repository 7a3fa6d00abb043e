"""Salesforce outbound messages (SOAP 1.1) → inbox events, dirty marks and engagement facts. Pure: no I/O.

Parsed with defusedxml and DTDs forbidden outright: an outbound message never has one, and without a
DTD there is no entity to expand (billion laughs) and no external entity to fetch (XXE).
The SessionId is read past, never kept: it is a live Salesforce session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connector.engine.activity_hints import READ_FIELDS, hint, people_of
from connector.store.inbox import DirtyMark, EngagementFact, InboxEvent
from webhooks.guards import fail

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
MAX_NOTIFICATIONS = 100
SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
SOBJECT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")

ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b" <soapenv:Body>\n"
    b'  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    b"   <Ack>true</Ack>\n"
    b"  </notificationsResponse>\n"
    b" </soapenv:Body>\n"
    b"</soapenv:Envelope>"
)


@dataclass
class OutboundMessage:
    organization_id: str
    action_id: str | None
    events: list[InboxEvent] = field(default_factory=list)
    marks: list[DirtyMark] = field(default_factory=list)
    facts: list[EngagementFact] = field(default_factory=list)


def parse(body: bytes) -> OutboundMessage:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        fail(f"the XML is refused: {type(exc).__name__} (DTDs and entities are not accepted)")
    except ParseError as exc:
        fail(f"the body is not well-formed XML: {exc}")
    if root.tag != f"{SOAP}Envelope":
        fail("expected a SOAP 1.1 Envelope (namespace http://schemas.xmlsoap.org/soap/envelope/)")
    notifications = root.find(f"{SOAP}Body/{OUTBOUND}notifications")
    if notifications is None:
        fail("the SOAP Body has no notifications element in namespace http://soap.sforce.com/2005/09/outbound")
    org_id = _text(notifications, "OrganizationId")
    if not org_id or not SF_ID.fullmatch(org_id):
        fail("notifications/OrganizationId is missing or not a Salesforce id")
    items = notifications.findall(f"{OUTBOUND}Notification")
    if not items:
        fail("the message has no Notification")
    if len(items) > MAX_NOTIFICATIONS:
        fail(f"{len(items)} notifications in one message; Salesforce sends at most {MAX_NOTIFICATIONS}")
    message = OutboundMessage(org_id, _text(notifications, "ActionId"))
    context = {"organization_id": org_id, "action_id": message.action_id,
               "enterprise_url": _text(notifications, "EnterpriseUrl"),
               "partner_url": _text(notifications, "PartnerUrl")}
    for index, item in enumerate(items):
        _one(message, index, item, context)
    return message


def _text(parent: Element, name: str) -> str | None:
    child = parent.find(f"{OUTBOUND}{name}")
    return None if child is None or child.text is None else child.text.strip()


def _one(message: OutboundMessage, index: int, item: Element, context: dict[str, Any]) -> None:
    where = f"Notification [{index}]"
    notification_id = _text(item, "Id")
    if not notification_id or not SF_ID.fullmatch(notification_id):
        fail(f"{where}/Id is missing or not a Salesforce id")
    sobject = item.find(f"{OUTBOUND}sObject")
    if sobject is None:
        fail(f"{where} has no sObject")
    sobject_type = (sobject.get(XSI_TYPE) or "").rpartition(":")[2]
    if not SOBJECT_TYPE.fullmatch(sobject_type):
        fail(f"{where}/sObject has no usable xsi:type (like 'sf:Lead')")
    fields: dict[str, str | None] = {}
    for child in sobject:
        name = child.tag.rpartition("}")[2]
        fields[name] = None if child.get(XSI_NIL) == "true" else (child.text or "")
    record_id = fields.get("Id")
    if not record_id or not SF_ID.fullmatch(record_id):
        fail(f"{where}/sObject has no valid Id")
    message.events.append(InboxEvent(
        source="salesforce",
        # Notification ids are per org; the org prefix keeps two orgs' ids apart.
        source_event_id=f"{message.organization_id[:15]}:{notification_id}",
        object_type=sobject_type,
        object_id=record_id,
        kind="changed",  # an outbound message fires on create or update; the worker reads which
        occurred_at=_timestamp(fields.get("SystemModstamp") or fields.get("LastModifiedDate")),
        payload={**context, "notification_id": notification_id, "sobject_type": sobject_type, "fields": fields},
    ))
    for person_id, person_type in _people(sobject_type, record_id, fields):
        message.marks.append(DirtyMark("salesforce", person_id, person_type))
    # Activity is a hint, not a fact: the worker reads the record back from Salesforce before the ledger
    # believes it (a forged message with a known OrganizationId must not create engagement).
    if sobject_type in READ_FIELDS:
        people = _people(sobject_type, record_id, fields)
        if people:
            message.facts.append(hint(sobject_type, record_id, people[0][0], message.organization_id,
                                      datetime.now(UTC)))


def _people(sobject_type: str, record_id: str, fields: dict[str, str | None]) -> list[tuple[str, str]]:
    return [(i, t) for i, t in people_of(sobject_type, record_id, fields) if SF_ID.fullmatch(i)]


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
