"""Create, read, update, delete and upsert records, with the org's rules and an undo log.

Every write goes through ``Store._put`` so the indexes (email for the duplicate rule, external and
unique fields) stay right and an all-or-none batch can roll back exactly what it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.salesforce.duplicates import NameKey, duplicate_error, name_key, same_first_name
from connector.sandbox.salesforce.schema import Schema, SObjectType
from connector.sandbox.salesforce.state import Record, SalesforceState, now_stamp, to18
from connector.sandbox.salesforce.validate import RecordError, RecordFailed, coerce_body, missing_required

ChangeListener = Callable[[str, str, str], None]  # (sobject, id, "created" | "updated" | "deleted")
DUPLICATE_RULE_OBJECTS = ("Lead", "Contact")


@dataclass
class Txn:
    undo: list[tuple[str, str, Record | None]] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def not_found() -> RecordFailed:
    return RecordFailed([RecordError("NOT_FOUND", "The requested resource does not exist")], 404)


def entity_deleted(status: int = 404) -> RecordFailed:
    return RecordFailed([RecordError("ENTITY_IS_DELETED", "entity is deleted")], status)


class Store:
    def __init__(self, state: SalesforceState, schema: Schema, version: str, on_change: ChangeListener) -> None:
        self.state = state
        self.schema = schema
        self.version = version
        self.on_change = on_change
        self.duplicate_rule = True
        self.api_user_id = ""
        self._email: dict[str, set[tuple[str, str]]] = {}
        self._names: dict[NameKey, set[str]] = {}  # live, unconverted Leads by name match key
        self._unique: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.reindex()

    # ---- transactions and indexes -------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        txn = Txn()
        with self.state.lock:
            try:
                yield txn
            except BaseException:
                self.rollback(txn)
                raise
        for change in txn.changes:
            self.on_change(*change)

    def rollback(self, txn: Txn, to: tuple[int, int] = (0, 0)) -> None:
        """Undo back to a savepoint (``savepoint(txn)``), or everything."""
        with self.state.lock:
            while len(txn.undo) > to[0]:
                sobject, record_id, before = txn.undo.pop()
                self._put(sobject, record_id, before, None)
            del txn.changes[to[1]:]

    @staticmethod
    def savepoint(txn: Txn) -> tuple[int, int]:
        return len(txn.undo), len(txn.changes)

    def _put(self, sobject: str, record_id: str, record: Record | None, txn: Txn | None) -> None:
        table = self.state.table(sobject)
        before = table.get(record_id)
        if txn is not None:
            txn.undo.append((sobject, record_id, dict(before) if before else None))
        if before:
            self._index(sobject, before, remove=True)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record
            self._index(sobject, record, remove=False)

    def _index(self, sobject: str, record: Record, *, remove: bool) -> None:
        if record.get("IsDeleted"):
            return
        key = (sobject, record["Id"])
        email = record.get("Email")
        if sobject in DUPLICATE_RULE_OBJECTS and email and not record.get("IsConverted"):
            bucket = self._email.setdefault(email.lower(), set())
            bucket.discard(key) if remove else bucket.add(key)
        names = name_key(record) if sobject == "Lead" and not record.get("IsConverted") else None
        if names is not None:
            lead_ids = self._names.setdefault(names, set())
            lead_ids.discard(record["Id"]) if remove else lead_ids.add(record["Id"])
        sobject_type = self.schema.get(sobject)
        for f in sobject_type.fields.values() if sobject_type else ():
            value = record.get(f.name)
            if (f.external_id or f.unique) and value not in (None, ""):
                ids = self._unique.setdefault((sobject, f.name), {}).setdefault(str(value).lower(), set())
                ids.discard(record["Id"]) if remove else ids.add(record["Id"])

    def reindex(self) -> None:
        with self.state.lock:
            self._email.clear()
            self._names.clear()
            self._unique.clear()
            for sobject, table in self.state.records.items():
                for record in table.values():
                    self._index(sobject, record, remove=False)

    def ids_by(self, sobject: str, field_name: str, value: Any) -> list[str]:
        return sorted(self._unique.get((sobject, field_name), {}).get(str(value).lower(), ()))

    # ---- reads ---------------------------------------------------------------------------------
    def type_of(self, name: str) -> SObjectType:
        sobject = self.schema.get(name)
        if sobject is None:
            raise RecordFailed([RecordError("NOT_FOUND", "The requested resource does not exist")], 404)
        return sobject

    def get(self, sobject: str, record_id: str, *, include_deleted: bool = False) -> Record:
        record = self.state.table(sobject).get(to18(record_id))
        if record is None:
            raise not_found()
        if record.get("IsDeleted") and not include_deleted:
            raise entity_deleted()
        return record

    def render(self, sobject: str, record: Record, fields: list[str] | None = None) -> dict[str, Any]:
        sobject_type = self.type_of(sobject)
        names = fields if fields is not None else list(sobject_type.fields)
        out: dict[str, Any] = {
            "attributes": {"type": sobject, "url": f"/services/data/v{self.version}/sobjects/{sobject}/{record['Id']}"}
        }
        for name in names:
            out[name] = record.get(name)
        return out

    def resolve_fields(self, sobject: str, names: list[str]) -> list[str]:
        sobject_type = self.type_of(sobject)
        resolved = []
        for name in names:
            f = sobject_type.field(name.strip())
            if f is None:
                raise RecordFailed([RecordError(
                    "INVALID_FIELD", f"No such column '{name.strip()}' on entity '{sobject}'. If you are attempting "
                    "to use a custom field, be sure to append the '__c' after the custom field name.")])
            resolved.append(f.name)
        return resolved

    # ---- writes --------------------------------------------------------------------------------
    def create(self, sobject: str, body: dict[str, Any], txn: Txn, *, allow_duplicates: bool = False) -> str:
        sobject_type = self.type_of(sobject)
        values, errors = coerce_body(sobject_type, body, creating=True)
        stamp = now_stamp()
        record: Record = {name: f.default for name, f in sobject_type.fields.items()}
        record.update(Id=self.state.new_id(sobject), IsDeleted=False, CreatedDate=stamp, LastModifiedDate=stamp,
                      SystemModstamp=stamp, CreatedById=self.api_user_id, LastModifiedById=self.api_user_id)
        if "OwnerId" in sobject_type.fields:
            record["OwnerId"] = self.api_user_id
        record.update(values)
        if not errors:
            errors = self._check(sobject, record, None, allow_duplicates)
        if errors:
            raise RecordFailed(errors)
        _derive(sobject, record)
        self._put(sobject, record["Id"], record, txn)
        txn.changes.append((sobject, record["Id"], "created"))
        return str(record["Id"])

    def update(self, sobject: str, record_id: str, body: dict[str, Any], txn: Txn, *,
               allow_duplicates: bool = False, system: bool = False) -> None:
        sobject_type = self.type_of(sobject)
        before = self.get(sobject, record_id, include_deleted=True)
        if before.get("IsDeleted"):
            raise entity_deleted(400)
        if sobject == "Lead" and before.get("IsConverted") and not system:
            raise RecordFailed([RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")])
        body = {k: v for k, v in body.items() if k.lower() != "id"}
        if system:  # conversion and seeding may set read-only fields, as the platform itself does
            values = {sobject_type.field(k).name: v for k, v in body.items() if sobject_type.field(k)}
            errors: list[RecordError] = []
        else:
            values, errors = coerce_body(sobject_type, body, creating=False)
        record = {**before, **values}
        if not errors:
            errors = self._check(sobject, record, before, allow_duplicates)
        if errors:
            raise RecordFailed(errors)
        stamp = now_stamp()
        record.update(LastModifiedDate=stamp, SystemModstamp=stamp, LastModifiedById=self.api_user_id)
        _derive(sobject, record)
        self._put(sobject, record["Id"], record, txn)
        txn.changes.append((sobject, record["Id"], "updated"))

    def delete(self, sobject: str, record_id: str, txn: Txn) -> None:
        before = self.get(sobject, record_id, include_deleted=True)
        if before.get("IsDeleted"):
            raise entity_deleted()
        stamp = now_stamp()
        self._put(sobject, before["Id"], {**before, "IsDeleted": True, "SystemModstamp": stamp,
                                          "LastModifiedDate": stamp}, txn)
        txn.changes.append((sobject, before["Id"], "deleted"))

    def upsert(self, sobject: str, ext_field: str, value: Any, body: dict[str, Any], txn: Txn, *,
               allow_duplicates: bool = False) -> tuple[str, bool]:
        """Create or update by external id; (id, created). Several matches answer 300 as the API does."""
        sobject_type = self.type_of(sobject)
        f = sobject_type.field(ext_field)
        if f is None or not (f.external_id or f.name == "Id"):
            raise RecordFailed([RecordError(
                "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {ext_field}")], 404)
        if f.name == "Id":
            matches = [to18(str(value))] if value and to18(str(value)) in self.state.table(sobject) else []
        else:
            matches = self.ids_by(sobject, f.name, value)
        if len(matches) > 1:
            raise RecordFailed([RecordError(
                "DUPLICATE_EXTERNAL_ID", f"{f.name}: more than one record found for external id field: "
                f"[{', '.join(matches)}]", [f.name], {"ids": matches})], 300)
        body = {k: v for k, v in body.items() if k.lower() != f.name.lower()}
        if matches:
            self.update(sobject, matches[0], body, txn, allow_duplicates=allow_duplicates)
            return matches[0], False
        if f.name != "Id":
            body[f.name] = value
        return self.create(sobject, body, txn, allow_duplicates=allow_duplicates), True

    # ---- the org's rules -----------------------------------------------------------------------
    def _check(self, sobject: str, record: Record, before: Record | None, allow_duplicates: bool) -> list[RecordError]:
        sobject_type = self.type_of(sobject)
        errors: list[RecordError] = []
        required = missing_required(sobject_type, record)
        if required:
            errors.append(required)
        for f in sobject_type.fields.values():
            value = record.get(f.name)
            if value in (None, "") or (before and before.get(f.name) == value):
                continue
            if f.unique:
                others = [i for i in self.ids_by(sobject, f.name, value) if i != record["Id"]]
                if others:
                    errors.append(RecordError("DUPLICATE_VALUE", f"duplicate value found: {f.name} duplicates "
                                              f"value on record with id: {others[0]}", [f.name]))
            if f.type == "reference" and f.reference_to and not any(
                    to18(value) in self.state.table(t) for t in f.reference_to):
                errors.append(RecordError("INVALID_CROSS_REFERENCE_KEY",
                                          f"invalid cross reference id: {value}", [f.name]))
        if sobject == "CampaignMember" and not errors:
            errors.extend(self._campaign_member_rules(record, before))
        if not errors and self.duplicate_rule and not allow_duplicates and sobject in DUPLICATE_RULE_OBJECTS \
                and _match_fields_changed(record, before):
            duplicate = self._duplicates(sobject, record)
            if duplicate:
                errors.append(duplicate)
        return errors

    def _campaign_member_rules(self, record: Record, before: Record | None) -> list[RecordError]:
        if not record.get("LeadId") and not record.get("ContactId"):
            return [RecordError("REQUIRED_FIELD_MISSING", "Required fields are missing: [LeadId, ContactId]",
                                ["LeadId", "ContactId"])]
        if before is None:
            for other in self.state.table("CampaignMember").values():
                if (other["CampaignId"] == record["CampaignId"] and not other.get("IsDeleted")
                        and ((record.get("LeadId") and other.get("LeadId") == record["LeadId"])
                             or (record.get("ContactId") and other.get("ContactId") == record["ContactId"]))):
                    return [RecordError("DUPLICATE_VALUE", "Already a campaign member.")]
        return []

    def _duplicates(self, sobject: str, record: Record) -> RecordError | None:
        """DUPLICATES_DETECTED when a live Lead or Contact has the email, or a live Lead the (fuzzy) name and
        company: the standard rules' equation, reduced to the fields the connector writes."""
        matches: dict[tuple[str, str], str] = {}
        if record.get("Email"):
            for entity, other in self._email.get(str(record["Email"]).lower(), ()):
                if other != record.get("Id"):
                    matches[(entity, other)] = "Email"
        key = name_key(record) if sobject == "Lead" else None
        leads = self.state.table("Lead")
        for other in sorted(self._names.get(key, ())) if key else ():
            if other != record.get("Id") and same_first_name(leads[other].get("FirstName"), record.get("FirstName")):
                matches.setdefault(("Lead", other), "Name")
        if not matches:
            return None
        found = sorted((t, i, rule) for (t, i), rule in matches.items())
        return RecordError("DUPLICATES_DETECTED", "Use one of these records?", [],
                           duplicate_error(sobject, found, self.version))


def _match_fields_changed(record: Record, before: Record | None) -> bool:
    """The rule runs on create, and on an edit of a field it matches on (as Salesforce's 'on edit' action)."""
    if before is None:
        return True
    return any(str(record.get(f) or "").lower() != str(before.get(f) or "").lower()
               for f in ("Email", "FirstName", "LastName", "Company"))


def _derive(sobject: str, record: Record) -> None:
    """Fields the platform computes from others."""
    if "LastName" in record and sobject in ("Lead", "Contact", "User"):
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None
    if sobject == "Task":
        record["IsClosed"] = record.get("Status") == "Completed"
    elif sobject == "CampaignMember":
        record["HasResponded"] = record.get("Status") == "Responded"
    elif sobject == "Opportunity":
        record["IsClosed"] = record.get("StageName") in ("Closed Won", "Closed Lost")
        record["IsWon"] = record.get("StageName") == "Closed Won"
