"""Read a claimed batch from both CRMs and pair the records up into people.

Ids stored in the store link records; a match key (email) only finds a counterpart for a record
that has none. A converted Lead continues as its Contact. Two records that could be one person are
never merged silently: the first by a stated rule is linked, the rest are reported as duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.engine.lookup import Lookup
from connector.settings.mapping_config import MappingConfig
from connector.store.claims import Mark
from connector.store.links import Link, load_links

# Salesforce's key prefixes say what an id is even when a webhook did not.
PREFIXES = {"00Q": "Lead", "003": "Contact"}
# The stated rule for several Salesforce records with one email: a Contact (a converted, sales-owned
# person) before a Lead, then the oldest record.
DUPLICATE_RULE = "prefer a Contact over a Lead, then the oldest record"


@dataclass
class Person:
    link: Link
    hubspot: HubSpotRecord | None = None
    salesforce: SalesforceRecord | None = None
    hubspot_gone: bool = False  # linked, but HubSpot no longer has it
    hubspot_merged_into: str | None = None  # gone because merged into a contact another link holds
    salesforce_gone: bool = False
    notes: list[str] = field(default_factory=list)  # identity decisions, for the audit


@dataclass
class Gathered:
    people: list[Person]
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (system, id, why)


def sf_type(object_id: str, hint: str | None = None) -> str:
    if hint in ("Lead", "Contact"):
        return hint
    return PREFIXES.get(object_id[:3], "Lead")


def gather(engine: Engine, mapping: MappingConfig, lookup: Lookup, marks: list[Mark]) -> Gathered:
    hs_ids = {m.object_id for m in marks if m.system == "hubspot"}
    sf_ids = {m.object_id: sf_type(m.object_id, m.object_type) for m in marks if m.system == "salesforce"}
    links = load_links(engine, hs_ids, sf_ids)
    for link in links:
        if link.hubspot_id:
            hs_ids.add(link.hubspot_id)
        if link.salesforce_id:
            sf_ids[link.salesforce_id] = sf_type(link.salesforce_id, link.salesforce_type)

    hs_records = lookup.hubspot_by_id(hs_ids)
    merged_into = _follow_merges(lookup, links, hs_records)
    sf_records = _read_salesforce(mapping, lookup, sf_ids)
    converted = _follow_conversions(mapping, lookup, sf_records)

    gathered = Gathered([])
    used_hs: set[str] = set()
    used_sf: set[str] = set()
    for link in links:
        person = Person(link)
        if link.hubspot_id:
            person.hubspot = hs_records.get(link.hubspot_id)
            survivor = merged_into.get(link.hubspot_id)
            if person.hubspot is None and survivor is not None and survivor.id not in used_hs:
                person.notes.append(f"HubSpot contact {link.hubspot_id} was merged into {survivor.id}")
                link.hubspot_id, person.hubspot = survivor.id, survivor
            elif person.hubspot is None and survivor is not None:
                person.hubspot_merged_into = survivor.id  # both linked contacts were merged into one
            person.hubspot_gone = person.hubspot is None
            used_hs.add(link.hubspot_id)
        if link.salesforce_id:
            record = sf_records.get(link.salesforce_id)
            if record is not None and record.id in converted:
                person.notes.append(f"Lead {record.id} was converted; continuing as Contact {converted[record.id].id}")
                record = converted[record.id]
                link.salesforce_id, link.salesforce_type = record.id, record.type
            person.salesforce = record
            person.salesforce_gone = record is None
            used_sf.add(link.salesforce_id)
            if record is not None:
                used_sf.add(record.id)
        gathered.people.append(person)

    loose_hs = [r for i, r in hs_records.items() if i not in used_hs and r.id not in used_hs]
    loose_sf = []
    for sid, record in sf_records.items():
        record = converted.get(sid, record)
        if sid not in used_sf and record.id not in used_sf:
            used_sf.add(record.id)
            loose_sf.append(record)
    _pair_loose(engine, mapping, lookup, gathered, loose_hs, loose_sf)
    return gathered


def _follow_merges(lookup: Lookup, links: list[Link], records: dict[str, HubSpotRecord]) -> dict[str, HubSpotRecord]:
    """Linked HubSpot ids the batch read did not return: merged away (HubSpot answers a get of the old
    id with the survivor) or deleted. Rare, so one get each."""
    survivors = {}
    for link in links:
        if link.hubspot_id and link.hubspot_id not in records:
            record = lookup.hubspot_get(link.hubspot_id)
            if record is not None and record.id != link.hubspot_id:
                survivors[link.hubspot_id] = record
                records.setdefault(record.id, record)
    return survivors


def _read_salesforce(mapping: MappingConfig, lookup: Lookup, ids: dict[str, str]) -> dict[str, SalesforceRecord]:
    records: dict[str, SalesforceRecord] = {}
    for sobject in mapping.salesforce.objects:
        wanted = [i for i, t in ids.items() if t == sobject]
        if wanted:
            records.update(lookup.salesforce_by_id(sobject, wanted))
    return records


def _follow_conversions(mapping: MappingConfig, lookup: Lookup,
                        records: dict[str, SalesforceRecord]) -> dict[str, SalesforceRecord]:
    """Lead id -> the Contact it became, for every converted Lead in the batch (one read for all)."""
    targets = {r.id: str(r.fields["ConvertedContactId"]) for r in records.values()
               if r.type == "Lead" and r.fields.get("IsConverted") and r.fields.get("ConvertedContactId")}
    if not targets or "Contact" not in mapping.salesforce.objects:
        return {}
    contacts = lookup.salesforce_by_id("Contact", set(targets.values()))
    return {lead: contacts[cid] for lead, cid in targets.items() if cid in contacts}


def _email(record: HubSpotRecord | SalesforceRecord) -> str:
    value = record.properties.get("email") if isinstance(record, HubSpotRecord) else record.fields.get("Email")
    return str(value or "").strip().lower()


def _pair_loose(engine: Engine, mapping: MappingConfig, lookup: Lookup, gathered: Gathered,
                loose_hs: list[HubSpotRecord], loose_sf: list[SalesforceRecord]) -> None:
    """Find counterparts by email for records nobody links yet, in one read per CRM for the whole batch."""
    by_email_sf: dict[str, list[SalesforceRecord]] = {}
    for record in loose_sf:
        by_email_sf.setdefault(_email(record), []).append(record)
    hs_emails = {_email(r) for r in loose_hs} - {""}
    # Salesforce candidates for HubSpot records: the batch's own loose records, then a query.
    missing = sorted(e for e in hs_emails if e not in by_email_sf)
    for sobject in mapping.salesforce.objects:
        if missing:
            found = lookup.salesforce_by_email(sobject, missing)
            for email, records in found.items():
                by_email_sf.setdefault(email, []).extend(records)
    # HubSpot candidates for Salesforce records.
    sf_emails = sorted(set(by_email_sf) - hs_emails - {""})
    hs_by_email = {_email(r): r for r in loose_hs}
    if sf_emails:
        for email, record in lookup.hubspot_by_email(sf_emails).items():
            hs_by_email.setdefault(email, record)

    taken = load_links(engine, [r.id for r in hs_by_email.values()],
                       [r.id for rs in by_email_sf.values() for r in rs])
    taken_hs = {link.hubspot_id for link in taken if link.hubspot_id}
    taken_sf = {link.salesforce_id for link in taken if link.salesforce_id}
    loose_sf_ids = {r.id for r in loose_sf}

    for record in loose_hs:
        candidates = [r for r in by_email_sf.get(_email(record), []) if r.id not in taken_sf] if _email(record) else []
        chosen = _choose(candidates, gathered)
        if chosen is not None:
            taken_sf.add(chosen.id)
        gathered.people.append(_new_person(record, chosen, mapping))
    for email, records in by_email_sf.items():
        loose_here = [r for r in records if r.id in loose_sf_ids and r.id not in taken_sf]
        if not loose_here:
            continue
        if not email:  # nothing to match on: each stands alone (and is never created in HubSpot)
            gathered.people.extend(_new_person(None, r, mapping) for r in loose_here)
            continue
        counterpart = hs_by_email.get(email)
        if counterpart is not None and counterpart.id in taken_hs:
            gathered.duplicates.extend(("salesforce", r.id, f"email {email} belongs to HubSpot contact "
                                        f"{counterpart.id}, already linked to another record") for r in loose_here)
            continue
        chosen = _choose([r for r in records if r.id not in taken_sf], gathered)
        if chosen is None or chosen.id not in loose_sf_ids:
            continue
        taken_sf.add(chosen.id)
        if counterpart is not None:
            taken_hs.add(counterpart.id)
        gathered.people.append(_new_person(counterpart, chosen, mapping))


def _choose(candidates: list[SalesforceRecord], gathered: Gathered) -> SalesforceRecord | None:
    if not candidates:
        return None
    ordered = sorted(candidates, key=lambda r: (r.type != "Contact", str(r.fields.get("CreatedDate") or ""), r.id))
    for other in ordered[1:]:
        gathered.duplicates.append(("salesforce", other.id, f"same email as {ordered[0].type} {ordered[0].id}; "
                                                            f"linked that one ({DUPLICATE_RULE})"))
    return ordered[0]


def _new_person(hubspot: HubSpotRecord | None, salesforce: SalesforceRecord | None, mapping: MappingConfig) -> Person:
    link = Link(None, hubspot.id if hubspot else None, salesforce.id if salesforce else None,
                salesforce.type if salesforce else None)
    person = Person(link, hubspot, salesforce)
    if hubspot and salesforce:
        person.notes.append("linked by email")
    return person
