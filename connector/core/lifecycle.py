"""The lifecycle ladder: forward only, CRM stages respected, and one explicit way back (recycle).

stage = the highest of: the stage the CRM holds (set by sales or another tool: never downgraded), the
stage this connector reached before (from state), the configured rules on CRM facts, MQL from the
score thresholds, and `subscriber` as the floor. Then recycle: when a rule matches while the lead is
sales-owned (SQL or opportunity), it goes back to `back_to`. Customers are never recycled. After a
recycle, the score makes the lead an MQL again only on engagement newer than the recycle, so a
rejected lead is not handed straight back to sales on yesterday's clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.core.predicates import Ctx, Reasoned
from connector.settings.lifecycle_config import LifecycleConfig

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


class LifecycleRules:
    def __init__(self, config: LifecycleConfig) -> None:
        self.rules = [(r.stage, Reasoned(r.when)) for r in config.lifecycle]
        self.recycle = [(r.name, Reasoned(r.when), r.back_to) for r in config.recycle]

    def decide(self, ctx: Ctx, crm_stage: str | None, previous: str | None, mql: bool, mql_text: str,
               recycled_at: datetime | None) -> Lifecycle:
        best, reason = "subscriber", "no lifecycle rule matched (floor)"

        def consider(stage: str, why: str) -> None:
            nonlocal best, reason
            if RANK[stage] > RANK[best]:
                best, reason = stage, why

        # Order matters only for ties: the live cause beats history, history beats the CRM's echo.
        for stage, cond in self.rules:
            why = cond.reason(ctx)
            if why is not None:
                consider(stage, f"rule: {why}")
        if mql:
            if recycled_at is None or _engaged_since(ctx, recycled_at):
                consider("marketingqualifiedlead", f"score: {mql_text}")
            else:
                reason_if_held = f"score qualifies ({mql_text}) but no engagement since the recycle"
                if RANK[best] < MQL:
                    reason = reason_if_held
        if previous in RANK:
            consider(previous, f"reached earlier; forward only (kept {previous})")
        if crm_stage in RANK:
            consider(crm_stage, "held in the CRM (set by sales or another tool); never downgraded")

        rank = RANK[best]
        for name, cond, back_to in self.recycle:
            if not SQL <= rank < CUSTOMER or rank <= RANK[back_to]:
                continue
            why = cond.reason(ctx)
            if why is None:
                continue
            fresh = previous not in RANK or RANK[previous] > RANK[back_to]
            verb = "recycled" if fresh else "still recycled"
            return Lifecycle(back_to, f"{verb} by {name} from {best}: {why}", fresh, name)
        return Lifecycle(best, reason, False, None)


def _engaged_since(ctx: Ctx, at: datetime) -> bool:
    latest = ctx.index.latest_ts  # computed on first use: needed only after a recycle
    return latest is not None and latest > at.timestamp()
