"""config/segments.yaml: personas (ordered; the first match is primary) and other segments."""

from __future__ import annotations

from pydantic import Field

from connector.settings.base import Model
from connector.settings.conditions import Condition


class Segment(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str | None = None
    description: str | None = None
    when: Condition


class SegmentsConfig(Model):
    personas: list[Segment] = Field(min_length=1, description="Ordered: the first that matches is primary.")
    default_persona: str | None = Field(None, description="Primary persona when none matches.")
    segments: list[Segment] = Field(default_factory=list, description="A contact can be in several.")
