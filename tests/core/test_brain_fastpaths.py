"""The brain's fast paths give the reference answers: memos, lazy score details, reordered conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import TypeAdapter

from connector.core import predicates
from connector.core.cadence import Clock, zone
from connector.core.conditions import evaluate
from connector.core.events import Event
from connector.core.ledger import index_events
from connector.core.predicates import Ctx, compile_condition
from connector.core.scoring import Scorer
from connector.settings.conditions import Condition
from connector.settings.nurture_config import Cadence
from connector.settings.scoring_config import ScoringConfig

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ADAPTER: TypeAdapter[Any] = TypeAdapter(Condition)


def test_text_memo_stays_right_when_it_overflows(monkeypatch: Any) -> None:
    monkeypatch.setattr(predicates, "MEMO_SIZE", 3)
    cond = ADAPTER.validate_python({"field": "t", "matches": "(?i)\\bvp\\b"})
    test = compile_condition(cond)
    index = index_events([], NOW)
    for value in ["VP Sales", "Engineer", "vp", "CEO", "VP Sales", "", None, "Engineer", 5]:
        assert test(Ctx({"t": value}, index, NOW)) == evaluate(cond, {"t": value}, [], NOW), value


def test_exists_false_and_reordered_parts_agree_with_evaluate() -> None:
    events = [Event("page_view", NOW - timedelta(days=1), {"url": "/pricing"})]
    for data in [{"field": "x", "exists": False},
                 {"all": [{"event": "page_view", "within_days": 3}, {"field": "x", "gte": 3}]},
                 {"any": [{"event": "email_open"}, {"field": "x", "exists": True}, {"field": "x", "eq": "a"}]}]:
        cond = ADAPTER.validate_python(data)
        for value in [None, "", "a", 3, 2.5, [], ["a"], True]:
            ctx = Ctx({"x": value}, index_events(events, NOW), NOW)
            assert compile_condition(cond)(ctx) == evaluate(cond, {"x": value}, events, NOW), (data, value)


def test_allowed_memo_answers_like_a_fresh_clock() -> None:
    memo, fresh = Clock(Cadence()), Clock(Cadence())
    tz = zone("Asia/Tokyo", "America/New_York")
    for hours in range(0, 24 * 9, 5):
        at = NOW + timedelta(hours=hours)
        expected = fresh._allowed_now(at, tz)
        assert memo.allowed(at, tz) == expected
        assert memo.allowed(at, tz) == expected  # from the memo
        other = at.astimezone(timezone(timedelta(hours=-5)))  # same instant, not UTC: computed, not memoised
        assert memo.allowed(other, tz) == expected


def test_lazy_contributions_and_top_match_the_eager_order() -> None:
    scorer = Scorer(ScoringConfig.model_validate({
        "fit": {"rules": [{"name": "a", "points": 5, "when": {"field": "x", "eq": 1}},
                          {"name": "b", "points": 8, "when": {"field": "x", "gte": 1}}]},
        "engagement": {"groups": [{"name": "g", "half_life_days": 10, "rules": [
            {"event": "email_open", "points": 4, "cap": 3}, {"event": "email_click", "points": 5}]}]},
    }))
    events = [Event("email_open", NOW - timedelta(days=d)) for d in (0, 1, 2)] + [Event("email_click", NOW)]
    card = scorer.score(Ctx({"x": 1}, index_events(events, NOW), NOW))
    top = card.top(3)
    eager = sorted((c for c in card.contributions if c.capped > 0), key=lambda c: -c.capped)[:3]
    assert top == [(c.capped, c.rule, c.group, c.count) for c in eager]
    assert card.top(3) == top  # the same once the contributions exist
    assert [c.rule for c in card.contributions] == ["a", "b", "email_open", "email_click"]
    assert card == scorer.score(Ctx({"x": 1}, index_events(events, NOW), NOW))
