"""Record writes with HubSpot's rules (unique email, forward-only lifecycle) and their webhook events.

Every HTTP handler — the public API and the sandbox control API — goes through these functions, so
the rules and the change events are the same whoever makes the change; only the ``Source`` differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from connector.sandbox.hubspot.errors import ApiError, PropertyProblem, validation_error
from connector.sandbox.hubspot.state import OBJECT_ALIASES, Record, State, iso, now_ms
from connector.sandbox.hubspot.validation import lifecycle_rank, validate

DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "tasks": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}
ALWAYS_PROPERTIES = {"contacts": ("createdate", "hs_object_id", "lastmodifieddate"),
                     "tasks": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")}
SINGULAR = {"contacts": "contact", "tasks": "task"}


@dataclass(frozen=True)
class Source:
    """Who made a change: the connector through the API, a simulated user, or seeding."""

    change_source: str  # INTEGRATION | CRM_UI | IMPORT
    source_id: str | None
    webhooks: bool = True


class EventSink(Protocol):
    def emit(self, subscription_type: str, object_id: str, source: Source, **fields: Any) -> None: ...


class NullSink:
    def emit(self, subscription_type: str, object_id: str, source: Source, **fields: Any) -> None:
        return None


class Portal:
    def __init__(self, state: State, events: EventSink, lifecycle_backwards: str = "ignore") -> None:
        self.state = state
        self.events = events
        # "ignore": HubSpot accepts the request but keeps the later stage; "error": answer 400.
        self.lifecycle_backwards = lifecycle_backwards

    # --- writes ------------------------------------------------------------------------------------

    def check(self, object_type: str, raw: dict[str, Any], source: Source,
              current: Record | None = None) -> tuple[dict[str, str], list[PropertyProblem]]:
        clean, problems = validate(self.state, object_type, raw, internal=source.change_source == "IMPORT")
        if object_type == "tasks" and current is None and not clean.get("hs_timestamp"):
            problems.append(PropertyProblem("hs_timestamp", "REQUIRED_PROPERTY",
                                            "hs_timestamp is required to create a task"))
        if object_type == "contacts" and "lifecyclestage" in clean and current is not None:
            old, new = current.properties.get("lifecyclestage"), clean["lifecyclestage"]
            if new and old and lifecycle_rank(new) < lifecycle_rank(old):
                if self.lifecycle_backwards == "error":
                    problems.append(PropertyProblem(
                        "lifecyclestage", "INVALID_LIFECYCLE_STAGE",
                        f"lifecyclestage cannot move backwards from {old} to {new}; set it to \"\" first"))
                else:
                    del clean["lifecyclestage"]
        return clean, problems

    def email_conflict(self, clean: dict[str, str], current: Record | None = None) -> ApiError | None:
        email = clean.get("email")
        if not email:
            return None
        owner = self.state.email_index.get(email)
        if owner and (current is None or owner != current.id):
            return ApiError(409, "CONFLICT", f"Contact already exists. Existing ID: {owner}")
        return None

    def create(self, object_type: str, raw: dict[str, Any], source: Source) -> Record:
        with self.state.lock:
            clean, problems = self.check(object_type, raw, source)
            if problems:
                raise validation_error(problems)
            if object_type == "contacts" and (conflict := self.email_conflict(clean)):
                raise conflict
            return self.insert(object_type, clean, source)

    def insert(self, object_type: str, clean: dict[str, str], source: Source) -> Record:
        """Store an already-validated record and announce it."""
        with self.state.lock:
            ms = now_ms()
            record = Record(id=self.state.new_id(), object_type=object_type, properties={}, created_at=ms,
                            updated_at=ms)
            created_key = "createdate" if object_type == "contacts" else "hs_createdate"
            for name, value in (("hs_object_id", record.id), (created_key, iso(ms)),
                                ("lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate", iso(ms))):
                record.set(name, value, ms, source.change_source, source.source_id)
            for name, value in clean.items():
                if value != "":
                    record.set(name, value, ms, source.change_source, source.source_id)
            self.state.objects[object_type][record.id] = record
            if object_type == "contacts" and clean.get("email"):
                self.state.email_index[clean["email"]] = record.id
            if object_type == "contacts":
                self.events.emit("contact.creation", record.id, source)
                self._announce(record, {k: v for k, v in clean.items() if v != ""}, source)
            return record

    def update(self, record: Record, raw: dict[str, Any], source: Source) -> Record:
        with self.state.lock:
            clean, problems = self.check(record.object_type, raw, source, current=record)
            if problems:
                raise validation_error(problems)
            if record.object_type == "contacts" and (conflict := self.email_conflict(clean, record)):
                raise conflict
            return self.apply(record, clean, source)

    def apply(self, record: Record, clean: dict[str, str], source: Source) -> Record:
        with self.state.lock:
            changed = {k: v for k, v in clean.items() if (record.properties.get(k) or "") != v}
            if not changed:
                return record
            ms = now_ms()
            if "email" in changed and record.object_type == "contacts":
                old = record.properties.get("email")
                if old and self.state.email_index.get(old) == record.id:
                    del self.state.email_index[old]
                if changed["email"]:
                    self.state.email_index[changed["email"]] = record.id
            for name, value in changed.items():
                record.set(name, value or None, ms, source.change_source, source.source_id)
            modified = "lastmodifieddate" if record.object_type == "contacts" else "hs_lastmodifieddate"
            record.set(modified, iso(ms), ms, source.change_source, source.source_id)
            record.updated_at = ms
            if record.object_type == "contacts":
                self._announce(record, changed, source)
            return record

    def archive(self, record: Record, source: Source) -> None:
        with self.state.lock:
            if record.archived:
                return
            record.archived, record.archived_at = True, now_ms()
            email = record.properties.get("email")
            if email and self.state.email_index.get(email) == record.id:
                del self.state.email_index[email]
            if record.object_type == "contacts":
                self.events.emit("contact.deletion", record.id, source)

    def restore(self, record: Record, source: Source) -> None:
        with self.state.lock:
            email = record.properties.get("email")
            if email and email in self.state.email_index:
                raise ApiError(409, "CONFLICT", f"Contact already exists. Existing ID: {self.state.email_index[email]}")
            record.archived, record.archived_at = False, None
            if email:
                self.state.email_index[email] = record.id
            if record.object_type == "contacts":
                self.events.emit("contact.restore", record.id, source)

    def _announce(self, record: Record, changed: dict[str, str], source: Source) -> None:
        for name, value in changed.items():
            self.events.emit("contact.propertyChange", record.id, source, propertyName=name, propertyValue=value)

    # --- reads -------------------------------------------------------------------------------------

    def find(self, object_type: str, identifier: str, id_property: str | None = None,
             archived: bool = False) -> Record | None:
        with self.state.lock:
            if id_property and id_property not in ("hs_object_id", "id"):
                if object_type != "contacts" or id_property != "email":
                    raise ApiError(400, "VALIDATION_ERROR",
                                   f"{id_property} is not a unique property of {object_type}")
                record = self.state.contact_by_email(identifier)
                if record is None and archived:
                    matches = [r for r in self.state.contacts.values()
                               if r.archived and r.properties.get("email") == identifier.strip().lower()]
                    record = matches[-1] if matches else None
            else:
                record = (self.state.resolve(object_type, identifier) if not archived
                          else self.state.objects[object_type].get(identifier))
            if record is None or record.archived != archived:
                return None
            return record

    def render(self, record: Record, properties: Iterable[str] | None = None,
               with_history: Iterable[str] | None = None, associations: Iterable[str] | None = None,
               ) -> dict[str, Any]:
        names = list(properties) if properties else list(DEFAULT_PROPERTIES[record.object_type])
        if properties:
            names += [n for n in ALWAYS_PROPERTIES[record.object_type] if n not in names]
        # A requested property that does not exist is left out of the answer, not sent as null.
        schema = self.state.properties[record.object_type]
        names = [n for n in names if n in schema]
        body: dict[str, Any] = {
            "id": record.id,
            "properties": {n: record.properties.get(n) for n in names},
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "archived": record.archived,
        }
        if record.archived and record.archived_at:
            body["archivedAt"] = iso(record.archived_at)
        if with_history:
            body["propertiesWithHistory"] = {n: record.history.get(n, []) for n in with_history if n in schema}
        if associations:
            linked: dict[str, Any] = {}
            for to_type in associations:
                target = OBJECT_ALIASES.get(to_type)
                if target is None:
                    continue
                pairs = self.state.associated((record.object_type, record.id), target)
                if pairs:
                    type_name = f"{SINGULAR[record.object_type]}_to_{SINGULAR[target]}"
                    linked[target] = {"results": [{"id": oid, "type": type_name} for oid, _ in pairs]}
            body["associations"] = linked
        return body

