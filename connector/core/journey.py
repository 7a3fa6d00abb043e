"""The buyer's journey stage, from behaviour only: the latest stage whose signal the lead shows, else None."""

from __future__ import annotations

from connector.core.predicates import Ctx, Reasoned
from connector.settings.lifecycle_config import LifecycleConfig

NO_SIGNAL = "no engagement signal for any stage (never guessed)"


class Journey:
    def __init__(self, config: LifecycleConfig) -> None:
        # Tried latest first: a lead reading pricing pages is in decision even if it also opens emails.
        self.stages = [(s.name, Reasoned(s.when)) for s in reversed(config.journey)]
        self.names = [s.name for s in config.journey]

    def place(self, ctx: Ctx) -> tuple[str | None, str]:
        for name, cond in self.stages:
            reason = cond.reason(ctx)
            if reason is not None:
                return name, reason
        return None, NO_SIGNAL
