"""The fast kernel (`Scorer`) gives the reference scorer's cards for random rules and random ledgers.

Hypothesis draws whole scoring configs (fit rules with nested all/any/not conditions over a few fields,
engagement groups with random half-lives, windows, caps and `where` tests, rules taking one or several
event types) and event histories (types, ages from the future to well past every window, properties of
every shape), then compares every score, every contribution and every group total.

Floats: both sum the same terms, but the kernel adds a rule's decay factors type bucket by type bucket
while the reference walks the ledger in order, so a rule taking two event types may differ in the last
bits. Counts, points, caps, texts and every integer score must be identical; decayed sums agree to
1e-9 (relative); a written score may only differ where the exact value sits within 1e-9 of a half.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.core import predicates
from connector.core.events import Event
from connector.core.ledger import index_events
from connector.core.predicates import Ctx
from connector.core.scoring import ScoreCard, Scorer
from connector.core.scoring_reference import reference_score
from connector.settings.scoring_config import ScoringConfig

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
FIELDS = ("title", "size", "tags")
TYPES = ("open", "click", "view", "demo")
TEXTS = ("vp", "VP Sales", " vp ", "Manager", "", "/pricing", "/PRICING/x", "/docs", "3", "true", "no")

texts = st.sampled_from(TEXTS)
numbers = st.one_of(st.integers(-5, 200), st.floats(-5, 200, allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), texts, numbers, st.booleans())
values = st.one_of(scalars, st.lists(st.one_of(texts, st.integers(0, 5)), max_size=3))  # lists: multi-selects
points = st.one_of(st.integers(-30, 30), st.sampled_from([0.5, 1.5, 2.25, -0.5, 7.3]))
# Small whole days on both sides, so events land exactly on a window's edge or a whole half-life.
days = st.one_of(st.integers(1, 12), st.floats(0.5, 400, allow_nan=False))


@st.composite
def field_conditions(draw: st.DrawFn, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    field = draw(st.sampled_from(fields))
    op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "starts_with",
                               "ends_with", "matches", "exists"]))
    if op in ("eq", "ne"):
        value: Any = draw(scalars)
    elif op in ("in", "not_in"):
        value = draw(st.lists(scalars, min_size=1, max_size=3))
    elif op in ("gt", "gte", "lt", "lte"):
        value = draw(st.one_of(numbers, st.just("2026-01-01")))
    elif op == "matches":
        value = draw(st.sampled_from(["(?i)\\bvp\\b", "^/pricing", "\\d", "ag", ""]))
    elif op == "exists":
        value = draw(st.booleans())
    else:
        value = draw(st.sampled_from(["vp", "/pri", "ing", "", "X"]))
    return {"field": field, op: value}


conditions = st.recursive(
    field_conditions(),
    lambda inner: st.one_of(st.builds(lambda c: {"all": c}, st.lists(inner, max_size=3)),
                            st.builds(lambda c: {"any": c}, st.lists(inner, max_size=3)),
                            st.builds(lambda c: {"not": c}, inner)),
    max_leaves=5,
)
caps = st.one_of(st.none(), st.integers(-20, 20), st.sampled_from([2.5, 0.0, -7.25]))


@st.composite
def engagement_rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {"points": draw(points),
                            "event": draw(st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES),
                                                                                     min_size=1, max_size=3,
                                                                                     unique=True)))}
    if draw(st.booleans()):
        rule["where"] = draw(field_conditions(("url", "n")))
    if draw(st.booleans()):
        rule["cap"] = draw(caps)
    if draw(st.booleans()):
        rule["name"] = draw(st.sampled_from(["a", "b", "pricing"]))
    return rule


@st.composite
def groups(draw: st.DrawFn, name: str) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name, "rules": draw(st.lists(engagement_rules(), min_size=1, max_size=4))}
    decay = draw(st.sampled_from(["half_life", "window", "none"]))
    if decay == "half_life":
        group["half_life_days"] = draw(days)
    elif decay == "window":
        group["window_days"] = draw(days)
    if draw(st.booleans()):
        group["cap"] = draw(caps)
    return group


@st.composite
def configs(draw: st.DrawFn) -> ScoringConfig:
    n_groups = draw(st.integers(1, 3))
    low = draw(st.integers(-100, 0))
    return ScoringConfig.model_validate({
        "fit": {"max": draw(st.integers(1, 60)), "min": draw(st.integers(-60, 0)), "rules": draw(st.lists(
            st.builds(lambda name, p, when: {"name": name, "points": p, "when": when},
                      st.sampled_from(["x", "y", "z"]), points, conditions), max_size=5))},
        "engagement": {"max": draw(st.integers(1, 80)), "min": low,
                       "groups": [draw(groups(f"g{i}")) for i in range(n_groups)]},
    })


def _event(kind: str, age: float, props: dict[str, Any], with_ts: bool) -> Event:
    at = NOW - timedelta(days=age)
    return Event(kind, at, props, None, at.timestamp() if with_ts else None)


events = st.builds(_event, st.sampled_from((*TYPES, "other")),
                   st.one_of(st.integers(-2, 12), st.floats(-3, 500, allow_nan=False)),  # days; < 0: future
                   st.fixed_dictionaries({}, optional={"url": values, "n": values}), st.booleans())


def ledgers(max_events: int) -> st.SearchStrategy[list[Event]]:
    return st.lists(events, max_size=max_events)


facts = st.fixed_dictionaries({}, optional={f: values for f in FIELDS})


def assert_same_card(fast: ScoreCard, reference: ScoreCard) -> None:
    assert (fast.fit_raw, fast.fit) == (reference.fit_raw, reference.fit)  # same terms, same order
    assert fast.fit_score == reference.fit_score
    assert close(fast.engagement_raw, reference.engagement_raw) and close(fast.engagement, reference.engagement)
    if not near_half(reference.engagement):
        assert fast.engagement_score == reference.engagement_score
    assert fast.score == fast.fit_score + fast.engagement_score
    assert len(fast.contributions) == len(reference.contributions)
    for a, b in zip(fast.contributions, reference.contributions, strict=True):
        assert (a.rule, a.group, a.points, a.count, a.raw, a.cap, a.why) == (
            b.rule, b.group, b.points, b.count, b.raw, b.cap, b.why)
        assert close(a.decayed, b.decayed) and close(a.capped, b.capped)
    assert len(fast.groups) == len(reference.groups)
    for g, h in zip(fast.groups, reference.groups, strict=True):
        assert (g.name, g.cap, g.decay) == (h.name, h.cap, h.decay)
        assert close(g.total, h.total) and close(g.capped, h.capped)
    top = fast.top(3)  # read from the tally, before and after the records exist
    assert [row[1:] for row in top] == [row[1:] for row in reference.top(3)] or _top_ties(top, reference)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def near_half(value: float) -> bool:
    return abs(value - math.floor(value) - 0.5) < 1e-9


def _top_ties(top: list[tuple[float, str, str, int]], reference: ScoreCard) -> bool:
    # rows whose points differ only in the last bits may swap places; the sets of points must agree
    return sorted(round(r[0], 6) for r in top) == sorted(round(r[0], 6) for r in reference.top(3))


def check(config: ScoringConfig, contact: dict[str, Any], events: list[Event]) -> None:
    fast = Scorer(config).score(Ctx(dict(contact), index_events(events, NOW), NOW))
    assert_same_card(fast, reference_score(config, contact, events, NOW))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), facts, ledgers(30))
def test_kernel_equals_reference(config: ScoringConfig, contact: dict[str, Any], events: list[Event]) -> None:
    check(config, contact, events)


@pytest.mark.long
@settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), facts, ledgers(120))
def test_kernel_equals_reference_long(config: ScoringConfig, contact: dict[str, Any], events: list[Event]) -> None:
    check(config, contact, events)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), st.lists(st.tuples(facts, ledgers(20)), min_size=2, max_size=4))
def test_one_scorer_many_contacts_with_tiny_memos(config: ScoringConfig,
                                                  contacts: list[tuple[dict[str, Any], list[Event]]]) -> None:
    """A scorer is reused across a rescore: its remembered answers must never leak between contacts, even
    when the memos overflow and are emptied (size 2 here)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(predicates, "MEMO_SIZE", 2)
        patch.setattr("connector.core.scoring.MEMO_SIZE", 2)
        scorer = Scorer(config)
        for contact, events in contacts * 2:
            fast = scorer.score(Ctx(dict(contact), index_events(events, NOW), NOW))
            assert_same_card(fast, reference_score(config, contact, events, NOW))
