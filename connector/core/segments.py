"""Personas (ordered: the first match is primary) and segments (a contact can be in several)."""

from __future__ import annotations

from dataclasses import dataclass

from connector.core.frozen import slot_builder
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
        self._segments = [(name, cond.test, cond.text) for name, cond in self.segments]

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
        for name, test, text in self._segments:
            if test(ctx):
                names.append(name)
                reasons.append(text)
        return _membership(persona, persona_reason, tuple(names), tuple(reasons))


# Membership(...) for the hot path: the same frozen object, without the generated __init__'s detour.
_membership = slot_builder(Membership)
