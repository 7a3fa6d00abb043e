"""One pass over a contact's engagement ledger, so every later rule reads events by type and age."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from connector.core.events import Event

DAY = 86400.0
# Negative signals carry the content id of the email they came from, but are not engagement with it.
NOT_ENGAGEMENT = frozenset({"unsubscribe", "email_bounce"})


@dataclass(frozen=True, slots=True)
class EventIndex:
    by_type: dict[str, list[tuple[float, Event]]]  # age in days at `now` (negative: in the future)
    content_interactions: int  # distinct content ids the lead engaged with
    latest_ts: float | None  # POSIX time of the newest event


def index_events(events: Sequence[Event], now: datetime) -> EventIndex:
    # The hottest loop of a rescore (50 events x 1M contacts): locals only, no branches it can avoid.
    now_ts = now.timestamp()
    by_type: defaultdict[str, list[tuple[float, Event]]] = defaultdict(list)
    contents: set[str] = set()
    latest = -math.inf
    for event in events:
        ts = event.occurred_at.timestamp()
        if ts > latest:
            latest = ts
        by_type[event.type].append(((now_ts - ts) / DAY, event))
        if event.content_id is not None and event.type not in NOT_ENGAGEMENT:
            contents.add(event.content_id)
    contents.discard("")
    return EventIndex(by_type, len(contents), latest if events else None)
