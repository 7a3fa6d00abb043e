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
