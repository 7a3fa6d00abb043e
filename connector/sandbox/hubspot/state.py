"""The emulator's in-memory portal: records, schema, owners, lists, enrollments; JSON persistence.

One re-entrant lock guards everything: the emulator is served by a threaded server, and a batch call
must look atomic to concurrent readers, as it does on HubSpot.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.sandbox.hubspot.schema import default_groups, default_properties

OBJECT_TYPE_IDS = {"contacts": "0-1", "tasks": "0-27"}
OBJECT_ALIASES = {"contacts": "contacts", "contact": "contacts", "0-1": "contacts",
                  "tasks": "tasks", "task": "tasks", "0-27": "tasks"}
# HubSpot-defined association type ids between the two object types the sandbox knows.
ASSOCIATION_TYPE_IDS = {("tasks", "contacts"): 204, ("contacts", "tasks"): 203}
ASSOCIATION_LABELS = {204: "task_to_contact", 203: "contact_to_task"}
OWNERS = (
    ("Alex", "Morgan", "alex.morgan@example-sales.com"), ("Sam", "Rivera", "sam.rivera@example-sales.com"),
    ("Jordan", "Lee", "jordan.lee@example-sales.com"), ("Taylor", "Nguyen", "taylor.nguyen@example-sales.com"),
    ("Casey", "Okoro", "casey.okoro@example-sales.com"),
)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    """HubSpot's timestamp format: UTC, milliseconds, trailing Z."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class Record:
    id: str
    object_type: str
    properties: dict[str, str | None]
    created_at: int
    updated_at: int
    # property -> newest-first list of {value, timestamp, sourceType, sourceId}
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archived: bool = False
    archived_at: int | None = None

    def set(self, name: str, value: str | None, ms: int, source_type: str, source_id: str | None) -> None:
        self.properties[name] = value
        entry = {"value": value or "", "timestamp": iso(ms), "sourceType": source_type}
        if source_id:
            entry["sourceId"] = source_id
        self.history.setdefault(name, []).insert(0, entry)


@dataclass
class ManualList:
    list_id: str
    name: str
    object_type_id: str
    processing_type: str
    created_at: int
    updated_at: int
    version: int = 1
    members: dict[str, int] = field(default_factory=dict)  # record id -> joined at (ms)


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Record]] = {"contacts": {}, "tasks": {}}
        self.email_index: dict[str, str] = {}  # normalized email -> live contact id
        self.merged_into: dict[str, str] = {}  # merged-away contact id -> surviving id
        self.associations: dict[tuple[str, str], dict[tuple[str, str], set[int]]] = {}
        self.properties = default_properties()
        self.groups = default_groups()
        self.owners: list[dict[str, Any]] = [_owner(i, *o) for i, o in enumerate(OWNERS)]
        self.lists: dict[str, ManualList] = {}
        self.enrollments: list[dict[str, Any]] = []  # {workflowId, email, contactId, enrolledAt, active}
        self.next_id = 1001
        self.next_list_id = 11

    @property
    def contacts(self) -> dict[str, Record]:
        return self.objects["contacts"]

    @property
    def tasks(self) -> dict[str, Record]:
        return self.objects["tasks"]

    def new_id(self) -> str:
        with self.lock:
            value = self.next_id
            self.next_id += 1
            return str(value)

    def resolve(self, object_type: str, object_id: str) -> Record | None:
        """A live record by id, following merges as HubSpot does for merged-away contact ids."""
        with self.lock:
            seen = 0
            while object_type == "contacts" and object_id in self.merged_into and seen < 50:
                object_id, seen = self.merged_into[object_id], seen + 1
            return self.objects[object_type].get(object_id)

    def contact_by_email(self, email: str) -> Record | None:
        with self.lock:
            contact_id = self.email_index.get(email.strip().lower())
            return self.contacts.get(contact_id) if contact_id else None

    def associate(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        """Link both directions; True if the link is new."""
        with self.lock:
            existing = b in self.associations.get(a, {})
            self.associations.setdefault(a, {})[b] = {ASSOCIATION_TYPE_IDS.get((a[0], b[0]), 0)}
            self.associations.setdefault(b, {})[a] = {ASSOCIATION_TYPE_IDS.get((b[0], a[0]), 0)}
            return not existing

    def dissociate(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        with self.lock:
            removed = self.associations.get(a, {}).pop(b, None) is not None
            self.associations.get(b, {}).pop(a, None)
            return removed

    def associated(self, key: tuple[str, str], to_type: str) -> list[tuple[str, set[int]]]:
        with self.lock:
            links = self.associations.get(key, {})
            return sorted(((oid, types) for (otype, oid), types in links.items() if otype == to_type),
                          key=lambda item: int(item[0]) if item[0].isdigit() else 0)

    # --- persistence -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "objects": {t: [asdict(r) for r in recs.values()] for t, recs in self.objects.items()},
                "merged_into": self.merged_into,
                "associations": [[list(a), list(b), sorted(types)] for a, links in self.associations.items()
                                 for b, types in links.items()],
                "properties": self.properties,
                "groups": self.groups,
                "lists": [asdict(lst) for lst in self.lists.values()],
                "enrollments": self.enrollments,
                "next_id": self.next_id,
                "next_list_id": self.next_list_id,
            }

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.objects = {t: {r["id"]: Record(**r) for r in recs} for t, recs in data["objects"].items()}
            self.merged_into = dict(data.get("merged_into", {}))
            self.associations = {}
            for a, b, types in data.get("associations", []):
                self.associations.setdefault(tuple(a), {})[tuple(b)] = set(types)
            self.properties = data.get("properties", self.properties)
            self.groups = data.get("groups", self.groups)
            self.lists = {lst["list_id"]: ManualList(**lst) for lst in data.get("lists", [])}
            self.enrollments = list(data.get("enrollments", []))
            self.next_id = int(data.get("next_id", self.next_id))
            self.next_list_id = int(data.get("next_list_id", self.next_list_id))
            self.email_index = {
                (r.properties.get("email") or "").lower(): r.id
                for r in self.contacts.values() if not r.archived and r.properties.get("email")
            }

    def save(self, path: str | Path) -> None:
        target = Path(path)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        tmp.replace(target)  # atomic, so a crash mid-write never leaves half a portal behind

    def load(self, path: str | Path) -> bool:
        source = Path(path)
        if not source.exists():
            return False
        self.load_json(json.loads(source.read_text(encoding="utf-8")))
        return True


def _owner(index: int, first: str, last: str, email: str) -> dict[str, Any]:
    return {
        "id": str(9000 + index), "userId": 7000 + index, "userIdIncludingInactive": 7000 + index,
        "email": email, "firstName": first, "lastName": last, "type": "PERSON", "archived": False,
        "createdAt": "2023-01-10T09:00:00.000Z", "updatedAt": "2023-01-10T09:00:00.000Z",
        "teams": [{"id": "101", "name": "Sales", "primary": True}],
    }
