"""The emulated org's data: records by sObject type, sessions, API usage, query cursors.

Everything lives in memory behind one re-entrant lock; ``to_json``/``from_json`` let the sandbox
keep an org across restarts (``state_file``).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Key prefixes of the standard objects, so ids look (and sort) like the real ones.
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "User": "005",
    "Task": "00T",
    "Campaign": "701",
    "CampaignMember": "00v",
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
MAX_CURSORS = 200

Record = dict[str, Any]


def to18(sf_id: str) -> str:
    """Add the case-safe suffix Salesforce appends to 15-character ids (18-character ids pass through)."""
    if len(sf_id) != 15:
        return sf_id
    suffix = ""
    for chunk in (sf_id[0:5], sf_id[5:10], sf_id[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if ch.isupper())
        suffix += _SUFFIX[bits]
    return sf_id + suffix


def now_stamp() -> str:
    """A datetime as the REST API writes it: 2026-11-20T14:03:11.000+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


@dataclass
class SalesforceState:
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    api_usage: int = 0
    # token -> what it was issued for; expiring sessions simply clears this map
    sessions: dict[str, str] = field(default_factory=dict)
    cursors: OrderedDict[str, tuple[int, list[dict[str, Any]]]] = field(default_factory=OrderedDict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def new_id(self, sobject: str) -> str:
        with self.lock:
            n = self.counters.get(sobject, 0) + 1
            self.counters[sobject] = n
        prefix = KEY_PREFIXES.get(sobject, "a0X")
        digits = ""
        while n:
            n, rem = divmod(n, 62)
            digits = _BASE62[rem] + digits
        # "5e" is a pod-like infix so ids resemble 00Q5e000001AbCd
        return to18(prefix + "5e" + digits.rjust(10, "0"))

    def table(self, sobject: str) -> dict[str, Record]:
        return self.records.setdefault(sobject, {})

    def find(self, sf_id: str) -> tuple[str, Record] | None:
        """Find a record by id alone, as the composite endpoints must (ids carry their type)."""
        sf_id = to18(sf_id)
        for sobject, table in self.records.items():
            if sf_id in table:
                return sobject, table[sf_id]
        return None

    def add_cursor(self, locator: str, batch_size: int, rows: list[dict[str, Any]]) -> None:
        """Keep a query's rendered rows for its nextRecordsUrl pages (oldest cursors are dropped)."""
        with self.lock:
            self.cursors[locator] = (batch_size, rows)
            while len(self.cursors) > MAX_CURSORS:
                self.cursors.popitem(last=False)

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {"records": self.records, "counters": self.counters, "api_usage": self.api_usage}

    def save(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        tmp.replace(target)

    def load(self, path: str | Path) -> bool:
        source = Path(path)
        if not source.exists():
            return False
        data = json.loads(source.read_text(encoding="utf-8"))
        with self.lock:
            self.records = data.get("records", {})
            self.counters = data.get("counters", {})
            self.api_usage = int(data.get("api_usage", 0))
        return True
