"""Scoring arithmetic pinned with hand-computed numbers: decay, windows, caps, negative rules, clamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.core.events import Event
from connector.core.ledger import index_events
from connector.core.predicates import Ctx
from connector.core.scoring import ScoreCard, Scorer, clamp_cap, round_half_up
from connector.settings.scoring_config import ScoringConfig

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CONFIG = ScoringConfig.model_validate({
    "fit": {"max": 30, "min": -20, "rules": [
        {"name": "vp", "points": 15, "when": {"field": "job_title", "matches": "(?i)\\bvp\\b"}},
        {"name": "size", "points": 10, "when": {"field": "employees", "gte": 50}},
        {"name": "software", "points": 10, "when": {"field": "industry", "eq": "COMPUTER_SOFTWARE"}},
        {"name": "free mail", "points": -20, "when": {"field": "email", "matches": "@gmail\\."}},
        {"name": "student", "points": -25, "when": {"field": "job_title", "matches": "(?i)student"}},
    ]},
    "engagement": {"max": 40, "min": -30, "groups": [
        {"name": "email", "half_life_days": 30, "cap": 10, "rules": [
            {"event": "email_open", "points": 1, "cap": 3},
            {"event": "email_click", "points": 4},
        ]},
        {"name": "web", "half_life_days": 10, "rules": [
            {"name": "pricing", "event": "page_view", "points": 6, "where": {"field": "url", "contains": "/pricing"}},
            {"event": "page_view", "points": 1},
        ]},
        {"name": "hand", "window_days": 60, "rules": [{"event": "demo_request", "points": 25}]},
        {"name": "negative", "window_days": 365, "rules": [
            {"event": "unsubscribe", "points": -30, "cap": 20},
            {"event": "email_bounce", "points": -25},
        ]},
    ]},
    "mql": {"fit_at_least": 25, "engagement_at_least": 20},
})
SCORER = Scorer(CONFIG)


def ev(kind: str, days_ago: float, **props: Any) -> Event:
    return Event(kind, NOW - timedelta(days=days_ago), props)


def score(events: list[Event], facts: dict[str, Any] | None = None) -> ScoreCard:
    return SCORER.score(Ctx(dict(facts or {}), index_events(events, NOW), NOW))


@pytest.mark.parametrize(("events", "expected"), [
    ([ev("email_click", 0)], 4.0),
    ([ev("email_click", 30)], 2.0),  # one half-life
    ([ev("email_click", 60)], 1.0),  # two half-lives
    ([ev("email_click", 0), ev("email_click", 30), ev("email_click", 60)], 7.0),
    ([ev("email_click", -1)], 4.0),  # future-dated: full points, never more
    ([ev("page_view", 10, url="/pricing")], 3.0),  # web half-life is 10 days
    ([ev("demo_request", 60)], 25.0),  # window is inclusive at exactly 60 days
    ([Event("demo_request", NOW - timedelta(days=60, seconds=1))], 0.0),
    ([ev("demo_request", 0.5)], 25.0),  # a window does not decay inside it
])
def test_decay_and_windows(events: list[Event], expected: float) -> None:
    assert score(events).engagement == pytest.approx(expected)


@pytest.mark.parametrize(("events", "expected", "why"), [
    ([ev("email_open", 0)] * 5, 3.0, "rule cap: 5 opens x 1 = 5, capped at 3"),
    ([ev("email_click", 0)] * 3, 10.0, "group cap: 3 clicks x 4 = 12, group capped at 10"),
    ([ev("email_open", 0)] * 5 + [ev("email_click", 0)], 7.0, "3 (capped opens) + 4 = 7, under the group cap"),
    ([ev("unsubscribe", 1)] * 1, -20.0, "a negative rule's cap limits what it takes: -30 capped at -20"),
    ([ev("email_bounce", 1)] * 2, -30.0, "2 x -25 = -50, clamped to engagement.min -30"),
    ([ev("demo_request", 0), ev("email_click", 0)] * 3 + [ev("page_view", 0, url="/pricing")], 40.0,
     "75 + 10 + 6 = 91, clamped to engagement.max 40"),
    ([ev("page_view", 0, url="/pricing"), ev("page_view", 0, url="/docs")], 7.0,
     "an event counts for the first rule of its group that matches: 6 + 1, not 6 + 1 + 1"),
    ([ev("demo_request", 0), ev("unsubscribe", 0)], 5.0, "negative rules subtract: 25 - 20"),
])
def test_caps_negative_rules_and_clamps(events: list[Event], expected: float, why: str) -> None:
    assert score(events).engagement == pytest.approx(expected), why


@pytest.mark.parametrize(("facts", "raw", "clamped"), [
    ({"job_title": "VP Sales", "employees": 50}, 25, 25),  # gte is inclusive
    ({"job_title": "VP Sales", "employees": 49}, 15, 15),
    ({"job_title": "VP Sales", "employees": 50, "email": "a@gmail.com"}, 5, 5),
    ({"job_title": "VP Sales", "employees": 500, "industry": "computer_software"}, 35, 30),  # max 30
    ({"job_title": "Student", "email": "kid@gmail.com"}, -45, -20),  # min -20
    ({}, 0, 0),
])
def test_fit_rules_sum_and_clamp(facts: dict[str, Any], raw: float, clamped: float) -> None:
    card = score([], facts)
    assert (card.fit_raw, card.fit, card.fit_score) == (raw, clamped, clamped)


def test_contributions_show_raw_decayed_and_capped() -> None:
    card = score([ev("email_open", 0)] * 4 + [ev("email_open", 30)] * 2 + [ev("email_click", 30)],
                 {"job_title": "VP"})
    by_rule = {c.rule: c for c in card.contributions}
    opens = by_rule["email_open"]
    assert (opens.count, opens.raw, opens.decayed, opens.capped, opens.cap) == (6, 6, 5.0, 3.0, 3)
    assert (by_rule["email_click"].decayed, by_rule["email_click"].capped) == (2.0, 2.0)
    assert by_rule["vp"].group == "fit"
    [email] = card.groups
    assert (email.total, email.capped, email.decay) == (5.0, 5.0, "half-life 30 d")
    assert (card.fit_score, card.engagement_score, card.score) == (15, 5, 20)


@pytest.mark.parametrize(("value", "expected"), [(2.5, 3), (3.5, 4), (2.49, 2), (-2.5, -2), (-2.51, -3), (0.0, 0)])
def test_scores_round_half_up(value: float, expected: int) -> None:
    assert round_half_up(value) == expected


@pytest.mark.parametrize(("total", "cap", "expected"), [(12, 10, 10), (-12, 10, -10), (-12, -10, -10), (5, None, 5)])
def test_cap_is_a_magnitude(total: float, cap: float | None, expected: float) -> None:
    assert clamp_cap(total, cap) == expected


def test_decay_drift_does_not_move_the_written_score() -> None:
    events = [ev("email_click", 3)] * 2 + [ev("demo_request", 3)]
    today = score(events)
    an_hour_later = SCORER.score(Ctx({}, index_events(events, NOW + timedelta(hours=1)), NOW + timedelta(hours=1)))
    assert today.engagement != an_hour_later.engagement
    # 25 + 2 x 4 x 0.5^(3/30) = 25 + 7.464 = 32.46 today, a hair less an hour later: both write 32
    assert today.engagement == pytest.approx(32.4643, abs=1e-4)
    assert today.score == an_hour_later.score == 32
