"""The store's history as plain data, for reports: who reached which lifecycle stage when, what they were
sent (and in which A/B arm), and what they did. connector.engine.report_data builds it from the audit log,
the brain state and the engagement ledger; the report functions (connector.core.reports,
connector.core.report_tracks) are pure functions of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# The funnel, earliest first (HubSpot's lifecycle stages; evangelist counts as a customer that promotes).
STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
          "evangelist")
SHORT = {"subscriber": "subscriber", "lead": "lead", "marketingqualifiedlead": "MQL", "salesqualifiedlead": "SQL",
         "opportunity": "opportunity", "customer": "customer", "evangelist": "evangelist"}
RANK = {stage: i for i, stage in enumerate(STAGES)}


@dataclass(frozen=True, slots=True)
class Touch:
    track: str
    touch: str
    at: datetime
    content: str | None = None
    variant: str | None = None  # "experiment=variant"


@dataclass(frozen=True, slots=True)
class Activity:
    type: str  # canonical engagement type: email_open, email_click, demo_request, unsubscribe, ...
    at: datetime
    source: str = ""  # the channel it came through: hubspot, engagement source name, ...
    content: str | None = None


@dataclass(slots=True)
class Person:
    id: int
    email: str | None
    stage: str  # lifecycle stage now
    created_at: datetime  # first seen by the connector
    reached: dict[str, datetime] = field(default_factory=dict)  # stage -> first time we saw it reached
    persona: str | None = None
    segments: tuple[str, ...] = ()
    track: str | None = None  # the track it is on now
    sent: list[Touch] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)  # oldest first
    unsubscribed: bool = False

    def rank(self) -> int:
        return RANK.get(self.stage, 0)

    def reached_at(self, stage: str) -> datetime | None:
        """When it reached `stage` or any later one (a lead set straight to SQL also passed MQL then)."""
        times = [at for s, at in self.reached.items() if RANK.get(s, -1) >= RANK[stage]]
        return min(times) if times else None

    def has_reached(self, stage: str) -> bool:
        return self.rank() >= RANK[stage] or self.reached_at(stage) is not None

    def lead_at(self) -> datetime:
        """When it became a lead: the first lead-or-later stage seen, else when the connector first saw it."""
        return self.reached_at("lead") or self.created_at


@dataclass(frozen=True)
class History:
    people: Sequence[Person]
    now: datetime
    since: datetime  # the period the report covers: since .. now


@dataclass
class Report:
    """One report as a table, the same for the CLI (table, JSON, CSV) and the dashboard."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # caveats in plain words: small samples, open windows
    drill: list[list[int]] = field(default_factory=list)  # per row: contact ids behind it (the first 50)

    def add(self, row: list[object], contacts: Sequence[int] = ()) -> None:
        self.rows.append(row)
        self.drill.append(list(contacts)[:50])

    def as_dicts(self) -> list[dict[str, object]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, R's type 7); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def month_of(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1
