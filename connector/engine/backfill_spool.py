"""The records a backfill has walked, kept on disk until it finishes, so an interrupted walk resumes from its
cursor instead of walking everything again.

One file of JSON lines per source (hubspot, salesforce.Lead, ...) and a cursor per source: the newest
modification time walked. A resumed walk asks each CRM only for records changed after `cursor - overlap`,
so a record edited meanwhile is walked again and its newer copy wins (records are kept by id). The backfill
drops the spool as soon as its walk is whole, before it plans or writes. A spool made for another
`--since` is discarded. Secrets are never in it, but personal
data is: the folder is private to its owner, and it goes away when the backfill completes.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connector.core.conditions import as_datetime
from connector.core.pair import HubSpotRecord, SalesforceRecord

OVERLAP = timedelta(seconds=1)  # re-read the last second: a repeat is harmless, a gap is not
FLUSH_EVERY = 200

Record = HubSpotRecord | SalesforceRecord


class WalkSpool:
    def __init__(self, folder: Path, since: datetime) -> None:
        self.folder = folder
        self.since = since
        meta = self._meta()
        if meta.get("since") != since.isoformat():
            self.clear()  # another run's walk (or none): start afresh
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)  # contact data: its owner's only (mkdir's mode is masked by the umask)
        self._meta_write({"since": since.isoformat(), "sources": self._meta().get("sources", {})})
        self._pending: dict[str, list[str]] = {}

    # -- reading back -----------------------------------------------------------------------------

    def load(self, source: str) -> dict[str, Record]:
        records: dict[str, Record] = {}
        path = self.folder / f"{source}.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = _decode(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by the interruption: that record is walked again
                records[record.id] = record
        return records

    def resume_from(self, source: str) -> datetime | None:
        """Where the walk of this source continues, or None if it never started here."""
        cursor = self._meta().get("sources", {}).get(source, {}).get("cursor")
        return as_datetime(cursor) - OVERLAP if cursor else None

    # -- writing --------------------------------------------------------------------------------

    def add(self, source: str, record: Record) -> None:
        self._pending.setdefault(source, []).append(json.dumps(_encode(record), default=str))
        if len(self._pending[source]) >= FLUSH_EVERY:
            self.flush(source, record.updated_at)

    def flush(self, source: str, cursor: datetime | None, complete: bool = False) -> None:
        """Append what was walked, then move the cursor: the cursor never passes what is on disk."""
        lines = self._pending.pop(source, [])
        if lines:
            with (self.folder / f"{source}.jsonl").open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        meta = self._meta()
        entry = meta.setdefault("sources", {}).setdefault(source, {})
        if cursor is not None:
            entry["cursor"] = cursor.isoformat()
        entry["complete"] = complete
        self._meta_write(meta)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _meta(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "walk.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _meta_write(self, meta: dict[str, Any]) -> None:
        tmp = self.folder / "walk.json.tmp"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        tmp.replace(self.folder / "walk.json")


def _encode(record: Record) -> dict[str, Any]:
    stamp = record.updated_at.isoformat() if record.updated_at else None
    if isinstance(record, HubSpotRecord):
        return {"kind": "hubspot", "id": record.id, "properties": dict(record.properties), "updated_at": stamp}
    return {"kind": "salesforce", "type": record.type, "id": record.id, "fields": dict(record.fields),
            "updated_at": stamp}


def _decode(data: dict[str, Any]) -> Record:
    stamp = as_datetime(data.get("updated_at"))
    if data["kind"] == "hubspot":
        return HubSpotRecord(str(data["id"]), data["properties"], stamp)
    return SalesforceRecord(data["type"], str(data["id"]), data["fields"], stamp)
