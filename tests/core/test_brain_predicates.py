"""Compiled conditions give exactly the reference evaluator's answers, on every shape of value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from connector.core.conditions import evaluate
from connector.core.events import Event
from connector.core.ledger import index_events
from connector.core.predicates import Ctx, Reasoned, compile_condition, describe
from connector.settings.conditions import Condition

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ADAPTER: TypeAdapter[Any] = TypeAdapter(Condition)
CONDITIONS = [
    {"field": "x", "eq": "Foo"}, {"field": "x", "ne": "foo"}, {"field": "x", "eq": None},
    {"field": "x", "eq": True}, {"field": "x", "ne": False}, {"field": "x", "eq": 5},
    {"field": "x", "in": ["a", "B"]}, {"field": "x", "not_in": ["a", "b"]}, {"field": "x", "in": [1, "a"]},
    {"field": "x", "gt": 5}, {"field": "x", "gte": 5}, {"field": "x", "lt": 5.5}, {"field": "x", "lte": 5},
    {"field": "x", "gte": "2026-01-01"}, {"field": "x", "contains": "oo"}, {"field": "x", "starts_with": "F"},
    {"field": "x", "ends_with": ".EDU"}, {"field": "x", "matches": "^f"}, {"field": "x", "exists": True},
    {"field": "x", "within_days": 30}, {"field": "x", "older_than_days": 30},
]
VALUES = [None, "", "foo", "Foo ", "a", "b", "x.edu", "5", 5, 5.0, 6, 4.5, True, False, "true", ["a", "c"], [],
          "2026-03-01", "2025-01-01T00:00:00Z", NOW - timedelta(days=40)]


def _case_id(data: dict[str, Any]) -> str:
    op = next(k for k in data if k != "field")
    return f"{op}={data[op]}"


@pytest.mark.parametrize("data", CONDITIONS, ids=_case_id)
def test_compiled_field_tests_agree_with_evaluate(data: dict[str, Any]) -> None:
    cond = ADAPTER.validate_python(data)
    test = compile_condition(cond)
    for value in VALUES:
        facts = {"x": value}
        assert test(Ctx(facts, index_events([], NOW), NOW)) == evaluate(cond, facts, [], NOW), value


EVENTS = [
    Event("page_view", NOW - timedelta(days=1), {"url": "/pricing"}),
    Event("page_view", NOW - timedelta(days=30), {"url": "/pricing/team"}),
    Event("page_view", NOW - timedelta(days=30, seconds=1), {"url": "/pricing"}),
    Event("email_open", NOW - timedelta(days=2)),
    Event("demo_request", NOW + timedelta(hours=1)),
]


@pytest.mark.parametrize("data", [
    {"event": "page_view", "where": {"field": "url", "contains": "/pricing"}, "within_days": 30, "at_least": 2},
    {"event": "page_view", "where": {"field": "url", "contains": "/pricing"}, "within_days": 30, "at_least": 3},
    {"event": "page_view", "at_least": 3},
    {"event": ["email_open", "demo_request"], "within_days": 1},
    {"event": "email_open", "within_days": 2},
    {"not": {"event": "meeting_booked"}},
    {"all": [{"event": "email_open"}, {"any": [{"field": "x", "eq": 1}, {"event": "demo_request"}]}]},
])
def test_compiled_event_conditions_agree_with_evaluate(data: dict[str, Any]) -> None:
    cond = ADAPTER.validate_python(data)
    ctx = Ctx({"x": 2}, index_events(EVENTS, NOW), NOW)
    assert compile_condition(cond)(ctx) == evaluate(cond, {"x": 2}, EVENTS, NOW)


def test_reason_names_the_branch_that_matched() -> None:
    cond = ADAPTER.validate_python({"any": [{"field": "x", "eq": 1}, {"event": "email_open", "within_days": 7}]})
    reasoned = Reasoned(cond)
    assert reasoned.reason(Ctx({"x": 2}, index_events(EVENTS, NOW), NOW)) == "email_open within 7 days"
    assert reasoned.reason(Ctx({"x": 2}, index_events([], NOW), NOW)) is None
    assert describe(cond) == "x eq 1 or email_open within 7 days"
