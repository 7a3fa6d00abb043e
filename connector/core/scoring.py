"""Fit (who the lead is) and engagement (what they did, decayed) scores, with every contribution kept.

The rules, exactly as docs/BRAIN.md states them, are `connector.core.scoring_reference.reference_score`:
- fit: the sum of the points of every matching rule, clamped to [fit.min, fit.max];
- engagement: each event counts for the first rule of a group that matches it (an event can count in
  several groups); its points decay as points x 0.5^(age / half_life_days), or count in full inside
  `window_days` and not at all outside; a rule's sum is capped at +/-cap, then a group's sum at
  +/-cap, then the total is clamped to [engagement.min, engagement.max];
- the written scores are rounded half up to integers, so a day of decay does not rewrite every CRM
  record; score = fit_score + engagement_score.

`Scorer` below is the fast kernel a rescore runs a million times. It gets its speed from three things
only: rules compiled once (conditions into closures, and per event type the routes to the rules that
can take it), events read by type from the ledger's buckets instead of every rule scanning the ledger,
and the `Contribution`/`GroupTotal` records built only when someone reads them. Decay lives in
`Scorer._count_events`, caps and clamps in `Scorer._engagement`; tests/core/test_scoring_reference.py proves the
kernel equal to the reference over random rules and ledgers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def round_half_up(value: float) -> int:
    # Python's round() is banker's rounding; 2.5 -> 2 and 3.5 -> 4 would make thresholds look random.
    return math.floor(value + 0.5)


def clamp_cap(total: float, cap: float | None) -> float:
    """A cap is a magnitude: a positive sum is held at or below |cap|, a negative one at or above -|cap|."""
    if cap is None:
        return total
    cap = abs(cap)
    return min(total, cap) if total >= 0 else max(total, -cap)


def event_text(rule: EngagementRule) -> str:
    """What an engagement rule tests, in words: `page_view where url contains '/pricing'`."""
    types = [rule.event] if isinstance(rule.event, str) else rule.event
    return "/".join(types) + (f" where {describe(rule.where)}" if rule.where is not None else "")


def decay_text(group: EngagementGroup) -> str:
    if group.half_life_days is not None:
        return f"half-life {_num(group.half_life_days)} d"
    if group.window_days is not None:
        return f"last {_num(group.window_days)} d"
    return "no decay"


class ScoreCard:
    """The scores, and every contribution and group total behind them (explain, alerts).

    Built for every contact of a rescore, read in detail for few. The reference scorer passes the
    `contributions` and `groups`; the kernel passes instead its `tally` (the scorer, the fit rules that
    matched, and per engagement rule the event count and decay sum), from which the records are made
    on first read: exactly the numbers the scores were computed from.
    """

    __slots__ = ("_contributions", "_groups", "_tally", "engagement", "engagement_raw", "engagement_score",
                 "fit", "fit_raw", "fit_score", "score")

    def __init__(self, fit_raw: float, fit: float, engagement_raw: float, engagement: float, fit_score: int,
                 engagement_score: int, score: int, contributions: tuple[Contribution, ...] | None = None,
                 groups: tuple[GroupTotal, ...] | None = None, tally: _Tally | None = None) -> None:
        self.fit_raw = fit_raw
        self.fit = fit  # clamped
        self.engagement_raw = engagement_raw
        self.engagement = engagement  # clamped
        self.fit_score = fit_score
        self.engagement_score = engagement_score
        self.score = score
        self._contributions = contributions
        self._groups = groups
        self._tally = tally

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        if self._contributions is None:
            self._contributions, self._groups = self._details()
        return self._contributions

    @property
    def groups(self) -> tuple[GroupTotal, ...]:
        if self._groups is None:
            self._contributions, self._groups = self._details()
        return self._groups

    def _details(self) -> tuple[tuple[Contribution, ...], tuple[GroupTotal, ...]]:
        if self._tally is None:
            return (), ()
        scorer, fit_hits, counts, weights = self._tally
        contributions = [Contribution(name, "fit", points, 1, points, points, points, None, why)
                         for name, points, _, why in (scorer.fit_rules[i] for i in fit_hits)]
        rules: list[_RuleRow] = []
        groups: list[GroupTotal] = []
        scorer._engagement(counts, weights, rules, groups)
        contributions.extend(Contribution(rule.name, group.name, rule.points, n, rule.points * n, decayed, capped,
                                          rule.cap, rule.event_text) for group, rule, n, decayed, capped in rules)
        return tuple(contributions), tuple(groups)

    def top(self, n: int) -> list[tuple[float, str, str, int]]:
        """(capped points, rule, group, count) of the n largest positive contributions, ties in order."""
        if self._contributions is not None or self._tally is None:
            rows = [(c.capped, c.rule, c.group, c.count) for c in self.contributions if c.capped > 0]
        else:
            # Alert bodies want three rows, not every record: read the tally without building them.
            scorer, fit_hits, counts, weights = self._tally
            rows = [(points, name, "fit", 1) for name, points, _, _ in (scorer.fit_rules[i] for i in fit_hits)
                    if points > 0]
            rule_rows: list[_RuleRow] = []
            scorer._engagement(counts, weights, rule_rows)
            rows.extend((capped, rule.name, group.name, count) for group, rule, count, _, capped in rule_rows
                        if capped > 0)
        rows.sort(key=_first, reverse=True)  # stable: ties keep their order (all > 0, so no NaN)
        return rows[:n]

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


class _Rule:
    __slots__ = ("cap", "cap_size", "event_text", "index", "name", "points")

    def __init__(self, index: int, rule: EngagementRule) -> None:
        self.index = index  # position in Scorer.rules, and in a tally's counts and weights
        self.event_text = event_text(rule)
        self.name = rule.name or self.event_text
        self.points = rule.points
        self.cap = rule.cap
        self.cap_size = None if rule.cap is None else abs(rule.cap)  # a cap is a magnitude


class _Group:
    __slots__ = ("cap", "cap_size", "decay", "half_life", "name", "rules", "window")

    def __init__(self, group: EngagementGroup, rules: list[_Rule]) -> None:
        self.name = group.name
        self.cap = group.cap
        self.cap_size = None if group.cap is None else abs(group.cap)
        self.half_life = group.half_life_days
        self.window = group.window_days
        self.decay = decay_text(group)
        self.rules = rules


class _Route:
    """How an event of one type finds its rule in one group.

    The candidates are the group's rules that take the type, in config order, up to and including the
    first one without a `where` (it takes every event that reaches it; later rules never see one).
    With no `where` test left, every event of the type goes to `fallback`.
    """

    __slots__ = ("fallback", "field", "half_life", "memo", "tests", "window")

    def __init__(self, group: _Group, candidates: list[tuple[_Rule, EngagementRule]]) -> None:
        self.half_life, self.window = group.half_life, group.window
        self.fallback = -1  # the first rule without `where`, or -1: the event counts for no rule here
        tests: list[tuple[str, ValueTest, int]] = []
        for rule, config in candidates:
            if config.where is None:
                self.fallback = rule.index
                break
            tests.append((config.where.field, compile_value_test(config.where), rule.index))
        self.tests = tuple(tests)
        # When every test reads the same property and answers a text without looking at `now` (the text
        # operators), the rule chosen for a text value is remembered: a ledger repeats a handful of URLs.
        fields = {field for field, _, _ in tests}
        timeless = all(text_answer_is_timeless(c.where) for _, c in candidates if c.where is not None)
        self.field = fields.pop() if len(fields) == 1 and timeless else None
        self.memo: dict[str, int] = {}

    def split(self, ages: list[float], events: list[Event], now: datetime) -> dict[int, list[float]]:
        """rule index -> the ages of the events (of this type) that count for it, in ledger order."""
        by_rule: dict[int, list[float]] = {}
        field, memo = self.field, self.memo
        for age, event in zip(ages, events):  # noqa: B905 (one bucket's two lists: always the same length)
            if field is None:
                target = self.rule_for(event.properties, now)
            else:
                value = event.properties.get(field)
                if type(value) is str:
                    target = memo.get(value, -2)
                    if target == -2:
                        if len(memo) >= MEMO_SIZE:
                            memo.clear()
                        target = memo[value] = self.rule_for(event.properties, now)
                else:
                    target = self.rule_for(event.properties, now)
            if target >= 0:
                by_rule.setdefault(target, []).append(age)
        return by_rule

    def rule_for(self, properties: Mapping[str, Any], now: datetime) -> int:
        """The first candidate whose `where` passes, else the first one without a `where` (or -1)."""
        for field, test, index in self.tests:
            if test(properties.get(field), now):
                return index
        return self.fallback


# (scorer, indexes of the matching fit rules, per engagement rule: events counted, sum of decay factors)
_Tally = tuple["Scorer", list[int], list[int], list[float]]
# (group, rule, events counted, decayed points, after the rule's cap)
_RuleRow = tuple[_Group, _Rule, int, float, float]


class Scorer:
    def __init__(self, config: ScoringConfig) -> None:
        self.config = config
        self.fit_rules: list[tuple[str, float, Predicate, str]] = [
            (r.name, r.points, compile_condition(r.when), describe(r.when)) for r in config.fit.rules
        ]
        self.fit_tests = tuple((i, points, test) for i, (_, points, test, _) in enumerate(self.fit_rules))
        self.groups: list[_Group] = []
        self.rules: list[_Rule] = []
        self.routes: dict[str, list[_Route]] = {}  # event type -> one route per group that takes it
        for group_config in config.engagement.groups:
            rules = [_Rule(len(self.rules) + i, r) for i, r in enumerate(group_config.rules)]
            self.rules.extend(rules)
            group = _Group(group_config, rules)
            self.groups.append(group)
            types = dict.fromkeys(t for r in group_config.rules for t in ([r.event] if isinstance(r.event, str)
                                                                          else r.event))
            for event_type in types:
                candidates = [(rule, r) for rule, r in zip(rules, group_config.rules, strict=True)
                              if event_type == r.event or (not isinstance(r.event, str) and event_type in r.event)]
                self.routes.setdefault(event_type, []).append(_Route(group, candidates))
        self.fit_min, self.fit_max = config.fit.min, config.fit.max
        self.engagement_min, self.engagement_max = config.engagement.min, config.engagement.max

    def score(self, ctx: Ctx) -> ScoreCard:
        fit_raw = 0.0
        fit_hits: list[int] = []
        for i, points, test in self.fit_tests:
            if test(ctx):
                fit_raw += points
                fit_hits.append(i)
        fit = min(max(fit_raw, self.fit_min), self.fit_max)

        counts, weights = self._count_events(ctx.index, ctx.now)
        engagement_raw = self._engagement(counts, weights)
        engagement = min(max(engagement_raw, self.engagement_min), self.engagement_max)
        fit_score, engagement_score = round_half_up(fit), round_half_up(engagement)
        return ScoreCard(fit_raw, fit, engagement_raw, engagement, fit_score, engagement_score,
                         fit_score + engagement_score, None, None, (self, fit_hits, counts, weights))

    def _count_events(self, index: EventIndex, now: datetime) -> tuple[list[int], list[float]]:
        """Per engagement rule: how many events count for it, and the sum of their decay factors.

        The one place decay lives: 0.5^(age / half-life), a future-dated event (age <= 0) in full, never
        more; with a window, events up to `window` days old (inclusive) in full, older ones not at all.
        """
        counts = [0] * len(self.rules)
        weights = [0.0] * len(self.rules)
        routes = self.routes
        for event_type, (ages, events) in index.by_type.items():
            for route in routes.get(event_type, ()):
                # with no `where` to test, every event of the type counts for one rule: no need to split
                by_rule = route.split(ages, events, now).items() if route.tests else ((route.fallback, ages),)
                half_life, window = route.half_life, route.window
                for rule, rule_ages in by_rule:
                    if half_life is not None:
                        counts[rule] += len(rule_ages)
                        total = 0.0
                        for age in rule_ages:  # the hottest loop of a rescore: most of the 50 events
                            total += 0.5 ** (age / half_life) if age > 0 else 1.0
                        weights[rule] += total
                    elif window is not None:
                        n = 0
                        for age in rule_ages:
                            if age <= window:
                                n += 1
                        counts[rule] += n
                        weights[rule] += n
                    else:
                        counts[rule] += len(rule_ages)
                        weights[rule] += len(rule_ages)
        return counts, weights

    def _engagement(self, counts: list[int], weights: list[float], rule_rows: list[_RuleRow] | None = None,
                    group_totals: list[GroupTotal] | None = None) -> float:
        """The sum of the groups after the caps, before the total's clamp; the one place caps apply.

        A rule's decayed points are capped, the capped rules summed per group, the group's sum capped.
        A group (or rule) no event counted for is left out, not shown as 0. Given lists, it also
        records each rule's row and each group's total (explain, alert bodies).
        """
        engagement = 0.0
        for group in self.groups:
            total = 0.0
            touched = False
            for rule in group.rules:
                n = counts[rule.index]
                if not n:
                    continue
                touched = True
                decayed = rule.points * weights[rule.index]
                # clamp_cap(decayed, rule.cap), written out: ~15 calls a contact are 5 % of scoring
                size = rule.cap_size
                capped = decayed if size is None else min(decayed, size) if decayed >= 0 else max(decayed, -size)
                total += capped
                if rule_rows is not None:
                    rule_rows.append((group, rule, n, decayed, capped))
            if touched:
                size = group.cap_size
                capped_total = total if size is None else min(total, size) if total >= 0 else max(total, -size)
                engagement += capped_total
                if group_totals is not None:
                    group_totals.append(GroupTotal(group.name, total, group.cap, capped_total, group.decay))
        return engagement

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

