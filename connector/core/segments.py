"""Personas (ordered: the first match is primary) and segments (a contact can be in several)."""

from __future__ import annotations

from dataclasses import dataclass

from connector.core.predicates import Ctx, Reasoned
from connector.settings.segments_config import SegmentsConfig


@dataclass(frozen=True, slots=True)
class Membership:
    persona: str | None
    persona_reason: str
    segments: tuple[str, ...]
    segment_reasons: tuple[str, ...]  # the branch that matched, one per segment


class Segmenter:
    def __init__(self, config: SegmentsConfig) -> None:
        self.default = config.default_persona
        self.personas = [(p.name, Reasoned(p.when)) for p in config.personas]
        self.segments = [(s.name, Reasoned(s.when)) for s in config.segments]

    def place(self, ctx: Ctx) -> Membership:
        persona, persona_reason = self.default, (
            "default persona: no persona rule matched" if self.default else "no persona rule matched")
        for name, cond in self.personas:
            reason = cond.reason(ctx)
            if reason is not None:
                persona, persona_reason = name, reason
                break
        names: list[str] = []
        reasons: list[str] = []
        for name, cond in self.segments:
            if cond.test(ctx):
                names.append(name)
                reasons.append(cond.text)
        return Membership(persona, persona_reason, tuple(names), tuple(reasons))
