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
from datetime import datetime
from operator import itemgetter
from typing import Any

from connector.core.events import Event
from connector.core.ledger import EventIndex
from connector.core.predicates import (
    MEMO_SIZE,
    Ctx,
    Predicate,
    ValueTest,
    compile_condition,
    compile_value_test,
    describe,
    text_answer_is_timeless,
)
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


class ScoreCard:
    """The scores, and on first access every contribution and group total behind them (explain, alerts).

    Built for every contact of a rescore, read in detail for few: the `Contribution` and `GroupTotal`
    records are made only when `contributions` or `groups` is read, from the per-rule counts and decay
    sums kept here, so they are exactly the numbers the scores were computed from.
    """

    __slots__ = ("_contributions", "_counts", "_fit_hits", "_groups", "_scorer", "_weights", "engagement",
                 "engagement_raw", "engagement_score", "fit", "fit_raw", "fit_score", "score")

    def __init__(self, fit_raw: float, fit: float, engagement_raw: float, engagement: float, fit_score: int,
                 engagement_score: int, score: int, contributions: tuple[Contribution, ...] | None = None,
                 groups: tuple[GroupTotal, ...] | None = None) -> None:
        self.fit_raw = fit_raw
        self.fit = fit  # clamped
        self.engagement_raw = engagement_raw
        self.engagement = engagement  # clamped
        self.fit_score = fit_score
        self.engagement_score = engagement_score
        self.score = score
        self._contributions = contributions
        self._groups = groups
        self._scorer: Scorer | None = None
        self._fit_hits: list[int] = []
        self._counts: list[int] = []
        self._weights: list[float] = []

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        if self._contributions is None:
            self._explode()
        return self._contributions  # type: ignore[return-value]

    @property
    def groups(self) -> tuple[GroupTotal, ...]:
        if self._groups is None:
            self._explode()
        return self._groups  # type: ignore[return-value]

    def top(self, n: int) -> list[tuple[float, str, str, int]]:
        """(capped points, rule, group, count) of the n largest positive contributions, ties in order."""
        if self._contributions is not None:
            rows = [(c.capped, c.rule, c.group, c.count) for c in self._contributions if c.capped > 0]
        else:
            rows = [(points, name, "fit", 1) for name, points, _, _ in self._fit_rows() if points > 0]
            rows.extend((capped, rule.name, group.name, count) for group, rule, count, _, capped in self._rule_rows()
                        if capped > 0)
        rows.sort(key=_first, reverse=True)  # stable: ties keep their order (all > 0, so no NaN)
        return rows[:n]

    def _fit_rows(self) -> list[tuple[str, float, Predicate, str]]:
        fit_rules = self._scorer.fit_rules if self._scorer is not None else []
        return [fit_rules[i] for i in self._fit_hits]

    def _rule_rows(self) -> list[tuple[_Group, _Rule, int, float, float]]:
        rows = []
        if self._scorer is not None:
            counts, weights = self._counts, self._weights
            for group in self._scorer.groups:
                for rule in group.rules:
                    n = counts[rule.index]
                    if n:
                        decayed = rule.points * weights[rule.index]
                        rows.append((group, rule, n, decayed, clamp_cap(decayed, rule.cap)))
        return rows

    def _explode(self) -> None:
        scorer = self._scorer
        contributions: list[Contribution] = []
        group_totals: list[GroupTotal] = []
        if scorer is not None:
            for name, points, _, why in self._fit_rows():
                contributions.append(Contribution(name, "fit", points, 1, points, points, points, None, why))
            counts, weights = self._counts, self._weights
            for group in scorer.groups:
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
                    group_totals.append(GroupTotal(group.name, total, group.cap, clamp_cap(total, group.cap),
                                                   group.decay))
        self._contributions = tuple(contributions)
        self._groups = tuple(group_totals)

    def _key(self) -> tuple[object, ...]:
        return (self.fit_raw, self.fit, self.engagement_raw, self.engagement, self.fit_score,
                self.engagement_score, self.score, self.contributions, self.groups)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, ScoreCard) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        names = ("fit_raw", "fit", "engagement_raw", "engagement", "fit_score", "engagement_score", "score",
                 "contributions", "groups")
        return "ScoreCard(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, self._key(), strict=True)) + ")"


_first = itemgetter(0)
_new = object.__new__
_DECAY, _BY_VALUE, _GENERAL = "decay", "by value", "general"  # step kinds of the hot loop (compared by identity)


def round_half_up(value: float) -> int:
    # Python's round() is banker's rounding; 2.5 -> 2 and 3.5 -> 4 would make thresholds look random.
    return math.floor(value + 0.5)


def _magnitude(cap: float | None) -> float | None:
    return None if cap is None else abs(cap)


def clamp_cap(total: float, cap: float | None) -> float:
    if cap is None:
        return total
    cap = abs(cap)
    return min(total, cap) if total >= 0 else max(total, -cap)


class _Rule:
    __slots__ = ("cap", "event_text", "index", "name", "points", "timeless", "where", "where_field")

    def __init__(self, index: int, rule: EngagementRule) -> None:
        types = [rule.event] if isinstance(rule.event, str) else rule.event
        self.index = index
        self.event_text = "/".join(types) + (f" where {describe(rule.where)}" if rule.where else "")
        self.name = rule.name or self.event_text
        self.points = rule.points
        self.cap = rule.cap
        self.where: ValueTest | None = compile_value_test(rule.where) if rule.where is not None else None
        self.where_field = rule.where.field if rule.where is not None else ""
        # whether `where` answers a str value without looking at `now`, so the answer can be remembered
        self.timeless = rule.where is not None and text_answer_is_timeless(rule.where)


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
        self._fit_tests = tuple((i, points, test) for i, (_, points, test, _) in enumerate(self.fit_rules))
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
        # the same, flattened for the hot loop: (half-life, window, rules, index of the first rule when
        # it takes every event of the type, else -1)
        self.type_plans: dict[str, list[tuple[float | None, float | None, tuple[_Rule, ...], int]]] = {
            t: [(g.half_life, g.window, tuple(rules), rules[0].index if rules[0].where is None else -1)
                for g, rules in entries]
            for t, entries in self.by_type.items()
        }
        self.where_plans: dict[int, tuple[list[tuple[str, ValueTest, int]], int]] = {}
        for entries in self.type_plans.values():
            for _, _, rules, _ in entries:
                tests: list[tuple[str, ValueTest, int]] = []
                fallback = -1
                for rule in rules:
                    if rule.where is None:
                        fallback = rule.index
                        break
                    tests.append((rule.where_field, rule.where, rule.index))
                self.where_plans[id(rules)] = (tests, fallback)
        # The hot loop's steps per event type, one per group that takes the type, in `type_plans` order:
        # (_DECAY, rule index, half-life): every event counts for that rule, decayed;
        # (_BY_VALUE, (field, tests, fallback, memo), half-life, window): the rule is picked by one event
        #   property whose tests ignore `now` for a str value, so the rule per str value is remembered;
        # (_GENERAL, half-life, window, rules, plain): anything else, as `type_plans` says.
        self.steps: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for t, plans in self.type_plans.items():
            steps: list[tuple[Any, ...]] = []
            for half_life, window, rules, plain in plans:
                tests, fallback = self.where_plans[id(rules)]
                if plain >= 0 and window is None and half_life is not None:
                    steps.append((_DECAY, plain, half_life))
                elif (plain < 0 and len({f for f, _, _ in tests}) == 1
                      and all(r.timeless for r in rules if r.where is not None)):
                    memo: dict[str, int] = {}
                    steps.append((_BY_VALUE, (tests[0][0], tuple(tests), fallback, memo), half_life, window))
                else:
                    steps.append((_GENERAL, half_life, window, rules, plain))
            self.steps[t] = tuple(steps)
        # per group: |cap| or None, and per rule (index, points, |cap| or None); clamp_cap inlined
        self.totals_plan = [(_magnitude(g.cap), [(r.index, r.points, _magnitude(r.cap)) for r in g.rules])
                            for g in self.groups]
        self.fit_min, self.fit_max = config.fit.min, config.fit.max
        self.engagement_min, self.engagement_max = config.engagement.min, config.engagement.max

    def score(self, ctx: Ctx) -> ScoreCard:
        fit_raw = 0.0
        fit_hits: list[int] = []
        for i, points, test in self._fit_tests:
            if test(ctx):
                fit_raw += points
                fit_hits.append(i)
        fit = min(max(fit_raw, self.fit_min), self.fit_max)

        counts, weights = self._accumulate(ctx.index, ctx)
        engagement_raw = 0.0
        for group_cap, rules in self.totals_plan:
            total = 0.0
            touched = False
            for index, points, cap in rules:
                if counts[index]:
                    touched = True
                    decayed = points * weights[index]
                    if cap is not None:
                        decayed = min(decayed, cap) if decayed >= 0 else max(decayed, -cap)
                    total += decayed
            if touched:
                if group_cap is not None:
                    total = min(total, group_cap) if total >= 0 else max(total, -group_cap)
                engagement_raw += total
        engagement = min(max(engagement_raw, self.engagement_min), self.engagement_max)
        fit_score, engagement_score = math.floor(fit + 0.5), math.floor(engagement + 0.5)  # round_half_up
        # ScoreCard(...) then the four private fields, without building the empty lists __init__ makes
        card = _new(ScoreCard)
        card.fit_raw, card.fit, card.engagement_raw, card.engagement = fit_raw, fit, engagement_raw, engagement
        card.fit_score, card.engagement_score, card.score = fit_score, engagement_score, fit_score + engagement_score
        card._contributions = card._groups = None
        card._scorer, card._fit_hits, card._counts, card._weights = self, fit_hits, counts, weights
        return card

    def _accumulate(self, index: EventIndex, ctx: Ctx) -> tuple[list[int], list[float]]:
        """Per rule: how many events count, and the sum of their decay factors (points multiply later).

        Each sum is accumulated in the same order as the reference loop (buckets in ledger order of
        their first event, events in ledger order), so the floats are bit for bit the same.
        """
        counts = [0] * len(self.rules)
        weights = [0.0] * len(self.rules)
        now = ctx.now
        all_steps = self.steps
        for event_type, (ages, events) in index.by_type.items():
            steps = all_steps.get(event_type)
            if steps is None:
                continue
            for step in steps:
                kind = step[0]
                if kind is _DECAY:  # every event counts for the group's first rule
                    _, plain, half_life = step
                    counts[plain] += len(ages)
                    w = weights[plain]
                    for age in ages:
                        # a future-dated event counts in full: clock skew must not inflate a score
                        w += 0.5 ** (age / half_life) if age > 0 else 1.0
                    weights[plain] = w
                elif kind is _BY_VALUE:
                    (where_field, tests, fallback, memo), half_life, window = step[1:]
                    for age, event in zip(ages, events, strict=True):
                        if window is not None and age > window:
                            continue
                        value = event.properties.get(where_field)
                        if type(value) is str:
                            target = memo.get(value)
                            if target is None:
                                if len(memo) >= MEMO_SIZE:
                                    memo.clear()
                                target = memo[value] = _first_rule(tests, fallback, value, now)
                        else:
                            target = _first_rule(tests, fallback, value, now)
                        if target < 0:
                            continue
                        counts[target] += 1
                        weights[target] += 0.5 ** (age / half_life) if half_life is not None and age > 0 else 1.0
                else:
                    self._general(step, ages, events, now, counts, weights)
        return counts, weights

    def _general(self, step: tuple[Any, ...], ages: list[float], events: list[Event], now: datetime,
                 counts: list[int], weights: list[float]) -> None:
        _, half_life, window, rules, plain = step
        if plain >= 0 and window is None:  # every event counts for the group's first rule, no decay
            counts[plain] += len(ages)
            w = weights[plain]
            for _ in ages:
                w += 1.0
            weights[plain] = w
            return
        tests, fallback = self.where_plans[id(rules)]
        for age, event in zip(ages, events, strict=True):
            if window is not None and age > window:
                continue
            target = plain
            if target < 0:
                # the first rule whose `where` passes, else the first rule without one
                target = fallback
                properties = event.properties
                for where_field, where, index in tests:
                    if where(properties.get(where_field), now):
                        target = index
                        break
                if target < 0:
                    continue
            counts[target] += 1
            weights[target] += 0.5 ** (age / half_life) if half_life is not None and age > 0 else 1.0

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


def _first_rule(tests: tuple[tuple[str, ValueTest, int], ...], fallback: int, value: Any, now: datetime) -> int:
    """The first rule whose `where` passes for the value, else the first rule without one (or -1)."""
    for _, where, index in tests:
        if where(value, now):
            return index
    return fallback


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
