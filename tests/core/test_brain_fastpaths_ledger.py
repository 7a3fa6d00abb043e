"""More fast paths give the reference answers: precomputed event times, per-value `where` memos, lighter
result objects, remembered texts."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from connector.core import brain as brain_module
from connector.core import lifecycle, nurture, segments
from connector.core.brain import Brain, BrainInput
from connector.core.events import Event
from connector.core.ledger import index_events
from connector.core.lifecycle import Lifecycle
from connector.core.nurture import Plan
from connector.core.predicates import Ctx, Reasoned
from connector.core.segments import Membership
from connector.settings.conditions import Condition
from connector.settings.loader import load_settings

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ADAPTER: TypeAdapter[Any] = TypeAdapter(Condition)


def test_event_ts_is_derived_and_not_part_of_the_value() -> None:
    at = NOW - timedelta(days=3)
    plain, timed = Event("email_open", at), Event("email_open", at, ts=at.timestamp())
    assert plain.ts is None and timed.ts == at.timestamp()
    assert plain == timed and repr(plain) == repr(timed)


def test_index_with_and_without_ts_is_the_same_to_the_bit() -> None:
    rng = random.Random(5)
    berlin = ZoneInfo("Europe/Berlin")
    events = []
    for _ in range(200):
        at = NOW - timedelta(seconds=rng.randrange(-86400, 400 * 86400), microseconds=rng.randrange(10**6))
        at = at.astimezone(berlin) if rng.random() < 0.3 else at
        events.append((rng.choice(["email_open", "page_view", "unsubscribe"]), at, rng.choice([None, "c1", ""])))
    plain = [Event(kind, at, {}, cid) for kind, at, cid in events]
    timed = [Event(kind, at, {}, cid, at.timestamp()) for kind, at, cid in events]
    mixed = [t if i % 2 else p for i, (p, t) in enumerate(zip(plain, timed, strict=True))]
    reference = index_events(plain, NOW)
    for other in (index_events(timed, NOW), index_events(mixed, NOW)):
        assert list(other.by_type) == list(reference.by_type)
        for kind, (ages, evs) in reference.by_type.items():
            assert [a.hex() for a in other.by_type[kind][0]] == [a.hex() for a in ages]
            assert other.by_type[kind][1] == evs
        assert other.content_interactions == reference.content_interactions
        assert other.latest_ts == reference.latest_ts


# The `where` memo of scoring is proved against the reference scorer in tests/core/test_scoring_reference.py.


def test_reasoned_single_and_any_branches() -> None:
    index = index_events([], NOW)
    single = Reasoned(ADAPTER.validate_python({"field": "x", "gte": 2}))
    many = Reasoned(ADAPTER.validate_python({"any": [{"field": "x", "eq": 1}, {"field": "x", "gte": 2}]}))
    assert single.reason(Ctx({"x": 3}, index, NOW)) == single.text and single.reason(Ctx({}, index, NOW)) is None
    assert many.reason(Ctx({"x": 1}, index, NOW)) == "x eq 1"
    assert many.reason(Ctx({"x": 5}, index, NOW)) == "x gte 2"
    assert many.reason(Ctx({"x": 0}, index, NOW)) is None


def test_fast_builders_make_the_same_frozen_values() -> None:
    plan_args = ("t", "why", NOW, (), "next", NOW + timedelta(days=1), [["t:a", NOW.isoformat(), None]], 1, 3,
                 ("exp=a",))
    built = [(nurture._plan(*plan_args), Plan(*plan_args)),
             (lifecycle._lifecycle("lead", "r", True, "x"), Lifecycle("lead", "r", True, "x")),
             (segments._membership("p", "r", ("a",), ("ra",)), Membership("p", "r", ("a",), ("ra",)))]
    for fast, reference in built:
        assert fast == reference and repr(fast) == repr(reference)
        for obj in (fast, reference):  # frozen alike (slots + frozen raises TypeError on Python 3.11)
            with pytest.raises((dataclasses.FrozenInstanceError, TypeError)):
                obj.reason = "changed"  # type: ignore[misc]


def test_minute_text_matches_strftime() -> None:
    for at in [NOW, NOW.replace(microsecond=999_999), NOW.astimezone(ZoneInfo("Asia/Tokyo")),
               datetime(999, 1, 2, 3, 4, tzinfo=UTC), datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))]:
        assert brain_module._minute(at) == f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"


def test_brain_result_is_a_full_frozen_dataclass_and_now_texts_follow_now() -> None:
    settings = load_settings(Path(__file__).resolve().parents[2] / "app.yaml", check_env=False)
    brain = Brain(settings.scoring, settings.segments, settings.lifecycle, settings.nurture, settings.alerts)
    facts = {"email": "a@acme.com", "job_title": "VP Sales", "employees": 400, "industry": "COMPUTER_SOFTWARE",
             "country": "Germany", "timezone": "Europe/Berlin"}
    events = [Event("demo_request", NOW - timedelta(hours=3)),
              Event("webinar_attend", NOW - timedelta(days=1), {}, "w")]
    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))  # the same instant, another text
    for now in (NOW, berlin, NOW, NOW.replace(tzinfo=None)):
        result = brain.think(BrainInput(facts, events, None, now))
        assert result == dataclasses.replace(result) and repr(result) == repr(dataclasses.replace(result))
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.state = {}  # type: ignore[misc]
        expected = (now if now.tzinfo else now.replace(tzinfo=UTC)).isoformat()
        assert result.state["lifecycle_at"] == expected and result.state["track_since"] == expected
        assert all(entry[1] == expected for entry in result.state["sent"])
        assert result.alerts and result.writeback["next_touch"] is not None
