"""Fit (who the lead is) and engagement (what they did, decayed) scores, with every contribution kept.

Arithmetic, in order:
- fit: the sum of the points of every matching rule, clamped to [fit.min, fit.max];
- engagement: each event counts for the first rule of a group that matches it (an event can count in
  several groups); its points decay as points x 0.5^(age / half_life_days), or count in full inside
  `window_days` and not at all outside; a rule's sum is capped at +/-cap, then a group's sum at
  +/-cap, then the total is clamped to [engagement.min, engagement.max];
- the written scores are rounded half up to integers, so a day of decay does not rewrite every CRM
  record; score = fit_score + engagement_score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from connector.core.ledger import EventIndex
from connector.core.predicates import Ctx, Predicate, ValueTest, compile_condition, compile_value_test, describe
from connector.settings.scoring_config import EngagementGroup, EngagementRule, ScoringConfig


@dataclass(frozen=True, slots=True)
class Contribution:
    rule: str
    group: str  # "fit" or the engagement group
    points: float  # per matching event (fit: per rule)
    count: int
    raw: float  # points x count, before decay
    decayed: float
    capped: float  # after the rule's cap
    cap: float | None
    why: str  # the condition or event the rule tests


@dataclass(frozen=True, slots=True)
class GroupTotal:
    name: str
    total: float  # sum of the rules after their caps
    cap: float | None
    capped: float
    decay: str  # "half-life 30 d", "last 60 d" or "no decay"


@dataclass(frozen=True, slots=True)
class ScoreCard:
    fit_raw: float
    fit: float  # clamped
    engagement_raw: float
    engagement: float  # clamped
    fit_score: int
    engagement_score: int
    score: int
    contributions: tuple[Contribution, ...]
    groups: tuple[GroupTotal, ...]


def round_half_up(value: float) -> int:
    # Python's round() is banker's rounding; 2.5 -> 2 and 3.5 -> 4 would make thresholds look random.
    return math.floor(value + 0.5)


def clamp_cap(total: float, cap: float | None) -> float:
    if cap is None:
        return total
    cap = abs(cap)
    return min(total, cap) if total >= 0 else max(total, -cap)


class _Rule:
    __slots__ = ("cap", "event_text", "index", "name", "points", "where", "where_field")

    def __init__(self, index: int, rule: EngagementRule) -> None:
        types = [rule.event] if isinstance(rule.event, str) else rule.event
        self.index = index
        self.event_text = "/".join(types) + (f" where {describe(rule.where)}" if rule.where else "")
        self.name = rule.name or self.event_text
        self.points = rule.points
        self.cap = rule.cap
        self.where: ValueTest | None = compile_value_test(rule.where) if rule.where is not None else None
        self.where_field = rule.where.field if rule.where is not None else ""


class _Group:
    __slots__ = ("cap", "decay", "half_life", "name", "rules", "window")

    def __init__(self, group: EngagementGroup, rules: list[_Rule]) -> None:
        self.name = group.name
        self.cap = group.cap
        self.half_life = group.half_life_days
        self.window = group.window_days
        self.rules = rules
        if self.half_life is not None:
            self.decay = f"half-life {_num(self.half_life)} d"
        elif self.window is not None:
            self.decay = f"last {_num(self.window)} d"
        else:
            self.decay = "no decay"


class Scorer:
    def __init__(self, config: ScoringConfig) -> None:
        self.config = config
        self.fit_rules: list[tuple[str, float, Predicate, str]] = [
            (r.name, r.points, compile_condition(r.when), describe(r.when)) for r in config.fit.rules
        ]
        self.groups: list[_Group] = []
        self.rules: list[_Rule] = []
        # event type -> [(group, its rules that take this type, in config order)]
        self.by_type: dict[str, list[tuple[_Group, list[_Rule]]]] = {}
        for group in config.engagement.groups:
            compiled = []
            for rule in group.rules:
                compiled.append(_Rule(len(self.rules), rule))
                self.rules.append(compiled[-1])
            g = _Group(group, compiled)
            self.groups.append(g)
            for rule_cfg, rule in zip(group.rules, compiled, strict=True):
                for t in [rule_cfg.event] if isinstance(rule_cfg.event, str) else rule_cfg.event:
                    entries = self.by_type.setdefault(t, [])
                    if not entries or entries[-1][0] is not g:
                        entries.append((g, []))
                    entries[-1][1].append(rule)

    def score(self, ctx: Ctx) -> ScoreCard:
        contributions: list[Contribution] = []
        fit_raw = 0.0
        for name, points, test, why in self.fit_rules:
            if test(ctx):
                fit_raw += points
                contributions.append(Contribution(name, "fit", points, 1, points, points, points, None, why))
        fit_cfg = self.config.fit
        fit = min(max(fit_raw, fit_cfg.min), fit_cfg.max)

        counts, weights = self._accumulate(ctx.index, ctx)
        group_totals: list[GroupTotal] = []
        engagement_raw = 0.0
        for group in self.groups:
            total = 0.0
            touched = False
            for rule in group.rules:
                n = counts[rule.index]
                if not n:
                    continue
                touched = True
                decayed = rule.points * weights[rule.index]
                capped = clamp_cap(decayed, rule.cap)
                total += capped
                contributions.append(Contribution(rule.name, group.name, rule.points, n, rule.points * n,
                                                  decayed, capped, rule.cap, rule.event_text))
            if touched:
                capped_total = clamp_cap(total, group.cap)
                group_totals.append(GroupTotal(group.name, total, group.cap, capped_total, group.decay))
                engagement_raw += capped_total
        eng_cfg = self.config.engagement
        engagement = min(max(engagement_raw, eng_cfg.min), eng_cfg.max)
        fit_score, engagement_score = round_half_up(fit), round_half_up(engagement)
        return ScoreCard(fit_raw, fit, engagement_raw, engagement, fit_score, engagement_score,
                         fit_score + engagement_score, tuple(contributions), tuple(group_totals))

    def _accumulate(self, index: EventIndex, ctx: Ctx) -> tuple[list[int], list[float]]:
        """Per rule: how many events count, and the sum of their decay factors (points multiply later)."""
        counts = [0] * len(self.rules)
        weights = [0.0] * len(self.rules)
        now = ctx.now
        for event_type, bucket in index.by_type.items():
            entries = self.by_type.get(event_type)
            if entries is None:
                continue
            for group, rules in entries:
                half_life, window = group.half_life, group.window
                for age, event in bucket:
                    if window is not None and age > window:
                        continue
                    for rule in rules:
                        if rule.where is None or rule.where(event.properties.get(rule.where_field), now):
                            break
                    else:
                        continue
                    counts[rule.index] += 1
                    # a future-dated event counts in full: clock skew must not inflate a score
                    weights[rule.index] += 0.5 ** (age / half_life) if half_life is not None and age > 0 else 1.0
        return counts, weights

    def is_mql(self, card: ScoreCard) -> bool:
        mql = self.config.mql
        return (card.fit_score >= mql.fit_at_least and card.engagement_score >= mql.engagement_at_least
                and (mql.total_at_least is None or card.score >= mql.total_at_least))

    def mql_text(self, card: ScoreCard) -> str:
        mql = self.config.mql
        text = (f"fit {card.fit_score} ≥ {_num(mql.fit_at_least)} and "
                f"engagement {card.engagement_score} ≥ {_num(mql.engagement_at_least)}")
        if mql.total_at_least is not None:
            text += f" and score {card.score} ≥ {_num(mql.total_at_least)}"
        return text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
