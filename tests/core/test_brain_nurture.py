"""Nurture planning through the whole brain with the shipped config: tracks, cadence, exits, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.core.brain import Brain, BrainInput, BrainResult
from connector.core.events import Event
from connector.settings.loader import load_settings

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "app.yaml", check_env=False)
BRAIN = Brain(SETTINGS.scoring, SETTINGS.segments, SETTINGS.lifecycle, SETTINGS.nurture, SETTINGS.alerts)
TUE = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 EDT
ENGINEER = {"email": "eve@small.io", "job_title": "Software Engineer", "employees": 20, "timezone": "America/New_York"}
READ_GUIDE = [Event("content_download", TUE - timedelta(days=5), content_id="whitepaper")]


def think(facts: dict[str, Any], events: list[Event], previous: dict[str, Any] | None, now: datetime) -> BrainResult:
    return BRAIN.think(BrainInput(facts, events, previous, now))


def test_a_track_runs_touch_by_touch_under_the_cadence() -> None:
    first = think(ENGINEER, READ_GUIDE, None, TUE)
    assert (first.journey_stage, first.persona, first.track) == ("consideration", "technical_evaluator",
                                                                  "technical_consideration")
    assert [t.key for t in first.due_touches] == ["technical_consideration:architecture guide"]
    assert first.due_touches[0].hubspot_workflow_id == 9201
    # next: wait 3 days and the 3-day gap -> Fri 13th 11:00 EDT
    assert first.next_touch_at == datetime(2026, 3, 13, 15, tzinfo=UTC)
    assert first.writeback["next_touch"] == "2026-03-13"

    second = think(ENGINEER, READ_GUIDE, first.state, datetime(2026, 3, 13, 15, tzinfo=UTC))
    assert [t.key for t in second.due_touches] == ["technical_consideration:integrations webinar"]
    assert second.due_touches[0].salesforce_campaign_id == "7015e0000000001AAA"
    # gap says Mon 16th, but 2 a week: the window frees 7 days after Tue 10th
    assert second.next_touch_at == datetime(2026, 3, 17, 15, tzinfo=UTC)

    third = think(ENGINEER, READ_GUIDE, second.state, datetime(2026, 3, 17, 15, tzinfo=UTC))
    assert [t.key for t in third.due_touches] == ["technical_consideration:retarget with docs"]
    # wait 4 -> Sat 21st -> weekend -> Mon 23rd 00:00 -> quiet hours -> 08:00 EDT
    assert third.next_touch_at == datetime(2026, 3, 23, 12, tzinfo=UTC)

    fourth = think(ENGINEER, READ_GUIDE, third.state, datetime(2026, 3, 23, 12, tzinfo=UTC))
    assert [t.key for t in fourth.due_touches] == ["technical_consideration:sandbox invitation"]
    assert fourth.next_touch_at is None

    # content exhausted: falls through to the next track that fits, without repeating content
    fifth = think(ENGINEER, READ_GUIDE, fourth.state, datetime(2026, 3, 26, 12, tzinfo=UTC))
    assert fifth.track == "consideration"
    assert "technical_consideration exited: content exhausted" in fifth.track_reason
    assert [t.key for t in fifth.due_touches] == ["consideration:buyer's guide"]


def test_rerun_is_idempotent_and_an_unpersisted_run_repeats() -> None:
    first = think(ENGINEER, READ_GUIDE, None, TUE)
    again = think(ENGINEER, READ_GUIDE, first.state, TUE + timedelta(minutes=5))
    assert again.due_touches == ()
    assert again.state["sent"] == first.state["sent"]
    assert again.writeback == first.writeback
    # the caller crashed before persisting: the same touch, with the same key, comes back
    retry = think(ENGINEER, READ_GUIDE, None, TUE + timedelta(minutes=5))
    assert [t.key for t in retry.due_touches] == [t.key for t in first.due_touches]


def test_first_touch_waits_for_the_weekend_and_the_local_morning() -> None:
    friday_night_tokyo = datetime(2026, 3, 13, 12, tzinfo=UTC)  # Fri 21:00 JST
    result = think({**ENGINEER, "timezone": "Asia/Tokyo"}, READ_GUIDE, None, friday_night_tokyo)
    assert result.due_touches == ()
    assert result.next_touch_at == datetime(2026, 3, 15, 23, tzinfo=UTC)  # Mon 08:00 JST
    assert result.writeback["next_touch"] == "2026-03-16"  # the contact's local date


def test_gap_across_dst_is_elapsed_time() -> None:
    friday = datetime(2026, 3, 6, 15, tzinfo=UTC)  # 10:00 EST
    first = think(ENGINEER, READ_GUIDE, None, friday)
    assert first.next_touch_at == datetime(2026, 3, 9, 15, tzinfo=UTC)  # 72 h later: Mon 11:00 EDT


def test_moving_between_tracks_when_the_stage_changes() -> None:
    opens = [Event("email_open", TUE - timedelta(days=1))]
    aware = think(ENGINEER, opens, None, TUE)
    assert (aware.journey_stage, aware.track) == ("awareness", "awareness")
    moved = think(ENGINEER, [*opens, *READ_GUIDE], aware.state, TUE + timedelta(days=1))
    assert moved.track == "technical_consideration"
    assert "moved from awareness" in moved.track_reason
    assert moved.state["track_since"] == (TUE + timedelta(days=1)).isoformat()
    assert moved.due_touches == ()  # the 3-day gap holds across tracks
    assert moved.next_touch_at == TUE + timedelta(days=3)


@pytest.mark.parametrize(("facts", "events", "reason"), [
    ({"email_optout": True}, [], "suppressed: unsubscribed"),
    ({}, [Event("unsubscribe", TUE - timedelta(days=1))], "suppressed: unsubscribed"),
    ({"bounced": True}, [], "suppressed: bounced"),
    ({"email_valid": False}, [], "suppressed: invalid address"),
    ({"lead_status": "IN_PROGRESS"}, [], "exited on goal (lifecycle_stage in"),
])
def test_no_touch_when_suppressed_or_goal_reached(facts: dict[str, Any], events: list[Event], reason: str) -> None:
    result = think({**ENGINEER, **facts}, [*READ_GUIDE, *events], None, TUE)
    assert (result.track, result.due_touches, result.next_touch_at) == (None, (), None)
    assert reason in result.track_reason


def test_customers_get_the_post_purchase_track() -> None:
    result = think({**ENGINEER, "is_customer": True}, READ_GUIDE, None, TUE)
    assert (result.lifecycle_stage, result.track) == ("customer", "customer_delight")
    assert [t.key for t in result.due_touches] == ["customer_delight:thank you and referral reward"]


def test_no_signal_no_stage_no_track() -> None:
    result = think(ENGINEER, [], None, TUE)
    assert (result.journey_stage, result.track, result.lifecycle_stage) == (None, None, "subscriber")
    assert "never guessed" in result.journey_reason
