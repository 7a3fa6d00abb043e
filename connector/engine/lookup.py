"""Where gather() gets records: live from the CRMs (the worker), or from a walk already made (the backfill).

The backfill walks both CRMs page by page anyway; pairing from those pages instead of re-reading each
record is what keeps its API calls near the minimum the batch endpoints allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.crm.hubspot import HubSpotClient
from connector.crm.salesforce import SalesforceClient
from connector.settings.mapping_config import MappingConfig, Writeback


def hubspot_properties(mapping: MappingConfig) -> list[str]:
    """Mapped properties, the brain's write-back targets, and the facts and engagement signals it reads."""
    names = {f.hubspot for f in mapping.fields if f.hubspot}
    names |= {Writeback.target(t)[0] for t in mapping.writeback.hubspot.values()}
    signals = mapping.engagement
    names |= set(signals.hubspot_counters) | set(signals.hubspot_last_dates.values())
    names |= {signals.conversion_name_property, "lifecyclestage", "hubspot_owner_id", "hs_email_hard_bounce_reason"}
    return sorted(n for n in names | {"email", "lastmodifieddate", "createdate"} if n)


def two_way_properties(mapping: MappingConfig) -> list[str]:
    """Properties whose change time settles a conflict (two_way): read with their history."""
    return sorted({f.hubspot for f in mapping.fields if f.hubspot and f.sync == "two_way"})


def salesforce_fields(mapping: MappingConfig, sobject: str) -> list[str]:
    names = {f.salesforce_name(sobject) for f in mapping.fields} - {None}
    names |= {Writeback.target(t)[0] for t in mapping.writeback.salesforce.values()}
    names.update({mapping.salesforce.external_id_field, "Email", "EmailBouncedReason", "OwnerId"})
    if sobject == "Lead":
        names.update({"Status", "IsConverted", "ConvertedContactId"})
    if sobject == "Contact":
        names.add("AccountId")  # opportunities hang off the account: lifecycle facts
    return sorted(n for n in names if n)


class Lookup(Protocol):
    def hubspot_by_id(self, ids: Iterable[str]) -> dict[str, HubSpotRecord]: ...
    def hubspot_get(self, contact_id: str) -> HubSpotRecord | None: ...
    def hubspot_by_email(self, emails: Iterable[str]) -> dict[str, HubSpotRecord]: ...
    def salesforce_by_id(self, sobject: str, ids: Iterable[str]) -> dict[str, SalesforceRecord]: ...
    def salesforce_by_email(self, sobject: str, emails: Iterable[str]) -> dict[str, list[SalesforceRecord]]: ...


class LiveLookup:
    """Batch reads from the CRMs: one call per 100 (HubSpot) or 2,000 (Salesforce) ids."""

    def __init__(self, mapping: MappingConfig, hubspot: HubSpotClient, salesforce: SalesforceClient) -> None:
        self._mapping, self._hubspot, self._salesforce = mapping, hubspot, salesforce

    def hubspot_by_id(self, ids: Iterable[str]) -> dict[str, HubSpotRecord]:
        ids = list(ids)
        return self._hubspot.read(ids, hubspot_properties(self._mapping), history=two_way_properties(self._mapping)
                                  ) if ids else {}

    def hubspot_get(self, contact_id: str) -> HubSpotRecord | None:
        return self._hubspot.get(contact_id, hubspot_properties(self._mapping))

    def hubspot_by_email(self, emails: Iterable[str]) -> dict[str, HubSpotRecord]:
        emails = list(emails)
        if not emails:
            return {}
        return self._hubspot.read(emails, hubspot_properties(self._mapping), id_property="email")

    def salesforce_by_id(self, sobject: str, ids: Iterable[str]) -> dict[str, SalesforceRecord]:
        ids = list(ids)
        return self._salesforce.read(sobject, ids, salesforce_fields(self._mapping, sobject)) if ids else {}

    def salesforce_by_email(self, sobject: str, emails: Iterable[str]) -> dict[str, list[SalesforceRecord]]:
        emails = list(emails)
        if not emails:
            return {}
        return self._salesforce.find_by(sobject, "Email", emails, salesforce_fields(self._mapping, sobject))


class SnapshotLookup:
    """Answers from records already walked. A linked id the walk did not see (a walk limited by --since or
    --limit, a record deleted or merged meanwhile) is read live, in one batch, so nothing is ever taken
    for deleted just because the walk missed it. Email matches come only from the walk."""

    def __init__(self, hubspot: Iterable[HubSpotRecord], salesforce: Iterable[SalesforceRecord],
                 live: LiveLookup) -> None:
        self._hs = {r.id: r for r in hubspot}
        self._sf: dict[str, dict[str, SalesforceRecord]] = {}
        for record in salesforce:
            self._sf.setdefault(record.type, {})[record.id] = record
        self._hs_email = {_email(r.properties.get("email")): r for r in self._hs.values()}
        self._sf_email: dict[str, dict[str, list[SalesforceRecord]]] = {}
        for sobject, records in self._sf.items():
            for record in records.values():
                if record.type == "Lead" and record.fields.get("IsConverted"):
                    continue  # as the live query: converted Leads continue as their Contact
                self._sf_email.setdefault(sobject, {}).setdefault(_email(record.fields.get("Email")), []).append(record)
        self._live = live

    def hubspot_by_id(self, ids: Iterable[str]) -> dict[str, HubSpotRecord]:
        ids = list(ids)
        found = {i: self._hs[i] for i in ids if i in self._hs}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(self._live.hubspot_by_id(missing))
        return found

    def hubspot_get(self, contact_id: str) -> HubSpotRecord | None:
        return self._hs.get(contact_id) or self._live.hubspot_get(contact_id)

    def hubspot_by_email(self, emails: Iterable[str]) -> dict[str, HubSpotRecord]:
        return {e: self._hs_email[e] for e in emails if e in self._hs_email}

    def salesforce_by_id(self, sobject: str, ids: Iterable[str]) -> dict[str, SalesforceRecord]:
        records = self._sf.get(sobject, {})
        ids = list(ids)
        found = {i: records[i] for i in ids if i in records}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(self._live.salesforce_by_id(sobject, missing))
        return found

    def salesforce_by_email(self, sobject: str, emails: Iterable[str]) -> dict[str, list[SalesforceRecord]]:
        by_email = self._sf_email.get(sobject, {})
        return {e: by_email[e] for e in emails if e in by_email}


def _email(value: object) -> str:
    return str(value or "").strip().lower()
