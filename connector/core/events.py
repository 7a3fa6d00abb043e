"""An engagement fact as the core sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # canonical: email_open, page_view, demo_request, ...
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    content_id: str | None = None
    # Optional: `occurred_at.timestamp()`, filled in by whoever builds the event (the store loader, the
    # benchmark), so the brain does not convert 50 datetimes per contact. It must be exactly that float;
    # when None the brain computes it. Derived, so it takes no part in equality, hashing or repr.
    ts: float | None = field(default=None, compare=False, repr=False)

