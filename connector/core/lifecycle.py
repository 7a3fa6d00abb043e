"""The lifecycle ladder: forward only, CRM stages respected, and one explicit way back (recycle).

stage = the highest of: the stage the CRM holds (set by sales or another tool: never downgraded), the
stage this connector reached before (from state), the configured rules on CRM facts, MQL from the
score thresholds, and `subscriber` as the floor. Then recycle: when a rule matches while the lead is
sales-owned (SQL or opportunity), it goes back to `back_to`. Customers are never recycled. After a
recycle, the score makes the lead an MQL again only on engagement newer than the recycle, so a
rejected lead is not handed straight back to sales on yesterday's clicks. "Engagement" there means an
event of a type some engagement rule scores with positive points (docs/BRAIN.md): a bounce, an
unsubscribe or any unscored event newer than the recycle is not new engagement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.core.frozen import slot_builder
from connector.core.predicates import Ctx, Reasoned
from connector.settings.lifecycle_config import LifecycleConfig
from connector.settings.scoring_config import ScoringConfig

LADDER = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
          "evangelist")
RANK = {stage: i for i, stage in enumerate(LADDER)}
MQL, SQL, CUSTOMER = RANK["marketingqualifiedlead"], RANK["salesqualifiedlead"], RANK["customer"]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    stage: str
    reason: str
    recycled: bool  # a recycle happened in this run (log it)
    recycle_rule: str | None  # the rule in effect, this run or still from an earlier run


def positive_events(scoring: ScoringConfig) -> frozenset[str]:
    """Event types some engagement rule scores with positive points: what counts as engagement after a recycle."""
    kinds: set[str] = set()
    for group in scoring.engagement.groups:
        for rule in group.rules:
            if rule.points > 0:
                kinds.update([rule.event] if isinstance(rule.event, str) else rule.event)
    return frozenset(kinds)


class LifecycleRules:
    def __init__(self, config: LifecycleConfig, positive: frozenset[str] | None = None) -> None:
        self.positive = positive  # None: any event counts (no scoring config given)
        self.rules = [(r.stage, Reasoned(r.when)) for r in config.lifecycle]
        self.recycle = [(r.name, Reasoned(r.when), r.back_to) for r in config.recycle]
        self._rules = [(RANK[stage], stage, cond.reason) for stage, cond in self.rules]  # ranked, for decide

    def decide(self, ctx: Ctx, crm_stage: str | None, previous: str | None, mql: bool, mql_text: str,
               recycled_at: datetime | None) -> Lifecycle:
        best, rank, reason = "subscriber", 0, "no lifecycle rule matched (floor)"
        # A stage replaces the best so far only when it ranks higher (conditions are pure, so a rule that
        # could not win is not evaluated). Order matters only for ties: the live cause beats history,
        # history beats the CRM's echo.
        for stage_rank, stage, reason_of in self._rules:
            if stage_rank > rank:
                why = reason_of(ctx)
                if why is not None:
                    best, rank, reason = stage, stage_rank, f"rule: {why}"
        if mql:
            if recycled_at is None or _engaged_since(ctx, recycled_at, self.positive):
                if rank < MQL:
                    best, rank, reason = "marketingqualifiedlead", MQL, f"score: {mql_text}"
            elif rank < MQL:
                reason = f"score qualifies ({mql_text}) but no engagement since the recycle"
        previous_rank = RANK.get(previous) if previous is not None else None
        if previous_rank is not None and previous_rank > rank:
            best, rank, reason = previous, previous_rank, f"reached earlier; forward only (kept {previous})"
        crm_rank = RANK.get(crm_stage) if crm_stage is not None else None
        if crm_rank is not None and crm_rank > rank:
            best, rank, reason = crm_stage, crm_rank, "held in the CRM (set by sales or another tool); never downgraded"

        if SQL <= rank < CUSTOMER:
            for name, cond, back_to in self.recycle:
                if rank <= RANK[back_to]:
                    continue
                why = cond.reason(ctx)
                if why is None:
                    continue
                fresh = previous_rank is None or previous_rank > RANK[back_to]
                verb = "recycled" if fresh else "still recycled"
                return _lifecycle(back_to, f"{verb} by {name} from {best}: {why}", fresh, name)
        return _lifecycle(best, reason, False, None)


# Lifecycle(...) for the hot path: the same frozen object, without the generated __init__'s detour.
_lifecycle = slot_builder(Lifecycle)


def _engaged_since(ctx: Ctx, at: datetime, positive: frozenset[str] | None) -> bool:
    if positive is None:
        latest = ctx.index.latest_ts  # computed on first use: needed only after a recycle
        return latest is not None and latest > at.timestamp()
    since = at.timestamp()
    for kind in positive:
        bucket = ctx.index.by_type.get(kind)
        if bucket is not None and any((e.occurred_at.timestamp() if e.ts is None else e.ts) > since for e in bucket[1]):
            return True
    return False
