"""The lifecycle ladder: forward only, CRM stages respected, recycle as the only way back, and alerts."""

from __future__ import annotations

import zlib
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
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
# fit 15 + 10 + 5 + 10 + 5 = 45
VP = {"email": "ann@acme.com", "job_title": "VP Engineering", "employees": 1200, "industry": "COMPUTER_SOFTWARE",
      "country": "United States"}
# engagement: 3 webinars today = 30, capped by the content group at 25
HOT = [Event("webinar_attend", NOW - timedelta(hours=h), content_id=f"w{h}") for h in (1, 2, 3)]
SR = SETTINGS.alerts.owners.round_robin_salesforce


def think(facts: dict[str, Any], events: list[Event] = (), previous: dict[str, Any] | None = None,
          now: datetime = NOW) -> BrainResult:
    return BRAIN.think(BrainInput(facts, list(events), previous, now))


@pytest.mark.parametrize(("facts", "events", "previous", "stage", "reason"), [
    ({}, [], None, "subscriber", "floor"),
    ({"salesforce_type": "Lead"}, [], None, "lead", "rule: salesforce_type exists True"),
    (VP, HOT, None, "marketingqualifiedlead", "score: fit 45 ≥ 25 and engagement 25 ≥ 20"),
    # fit 15 < 25: engaged, but not an MQL
    ({"job_title": "VP"}, HOT, None, "lead", "rule: form_submit/content_download/webinar_attend"),
    ({"lead_status": "IN_PROGRESS"}, [], None, "salesqualifiedlead", "rule: lead_status in"),
    ({"is_converted": True}, [], None, "salesqualifiedlead", "rule: is_converted eq True"),
    ({"lifecycle_stage": "opportunity"}, HOT, None, "opportunity", "held in the CRM"),
    ({"lifecycle_stage": "other"}, [], None, "subscriber", "floor"),  # unknown CRM values are ignored
    ({}, [], {"lifecycle": "salesqualifiedlead"}, "salesqualifiedlead", "forward only"),
    ({"lifecycle_stage": "lead"}, [], {"lifecycle": "marketingqualifiedlead"}, "marketingqualifiedlead",
     "forward only"),
    ({"is_customer": True, "lifecycle_stage": "evangelist"}, [], None, "evangelist", "held in the CRM"),
])
def test_stage_is_the_highest_signal_and_never_goes_down(facts: dict[str, Any], events: list[Event],
                                                         previous: dict[str, Any] | None, stage: str,
                                                         reason: str) -> None:
    result = think(facts, events, previous)
    assert result.lifecycle_stage == stage
    assert reason in result.lifecycle_reason
    assert result.recycled is False


def test_recycle_is_the_only_way_back_and_happens_once() -> None:
    rejected = {**VP, "lead_status": "UNQUALIFIED", "lifecycle_stage": "salesqualifiedlead"}
    first = think(rejected, HOT, {"lifecycle": "salesqualifiedlead", "alerts": {"became_mql": {"at": "x"}}})
    assert (first.lifecycle_stage, first.recycled) == ("lead", True)
    assert first.lifecycle_reason.startswith("recycled by sales_rejected from salesqualifiedlead")
    assert first.state["recycled_at"] == NOW.isoformat()
    assert first.state["alerts"] == {}  # alerts were cleared: a later MQL alerts again

    # the CRM still shows SQL (our write is pending): stays recycled, and it is not a new recycle
    later = NOW + timedelta(hours=1)
    second = think(rejected, HOT, first.state, later)
    assert (second.lifecycle_stage, second.recycled) == ("lead", False)
    assert second.lifecycle_reason.startswith("still recycled")

    # the score still qualifies, but only engagement newer than the recycle makes it an MQL again
    nurtured = {**VP, "lead_status": "UNQUALIFIED", "lifecycle_stage": "lead"}
    held = think(nurtured, HOT, second.state, later)
    assert held.lifecycle_stage == "lead"
    assert "no engagement since the recycle" in held.lifecycle_reason
    fresh = [*HOT, Event("email_click", later)]
    again = think(nurtured, fresh, second.state, later)
    assert again.lifecycle_stage == "marketingqualifiedlead"
    assert [a.reason for a in again.alerts] == ["became_mql"]


@pytest.mark.parametrize("stage", ["customer", "evangelist", "marketingqualifiedlead", "lead"])
def test_recycle_only_for_sales_owned_stages(stage: str) -> None:
    result = think({"lead_status": "UNQUALIFIED", "lifecycle_stage": stage})
    assert (result.lifecycle_stage, result.recycled) == (stage, False)


def test_mql_alert_once_per_reason_with_owner_sla_and_body() -> None:
    first = think(VP, HOT)
    [alert] = first.alerts
    assert (alert.reason, alert.priority, alert.due_at) == ("became_mql", "High", NOW + timedelta(hours=24))
    # unowned: round-robin by a stable hash of the contact, the same on every run and worker
    assert alert.owner_id == SR[zlib.crc32(b"ann@acme.com") % len(SR)] == "0055e0000000004AAA"
    assert alert.owner_source == "round robin"
    assert alert.key == "alert:ann@acme.com:became_mql"
    lines = alert.body.splitlines()
    assert lines[:4] == [
        "New MQL: follow up",
        "Why now: lifecycle_stage eq 'marketingqualifiedlead'",
        "Score 70 (fit 45, engagement 25); lifecycle marketingqualifiedlead; persona executive_buyer; "
        "journey stage consideration",
        "Top score contributions:",
    ]
    assert lines[4] == "  +30.0 webinar_attend (content, 3×)"  # the rule before the group cap of 25
    assert "UTC webinar_attend" in alert.body
    assert think(VP, HOT, first.state, NOW + timedelta(hours=1)).alerts == ()


def test_closed_alerts_reopen_only_after_the_condition_clears() -> None:
    first = think(VP, HOT)
    closed = {**VP, "closed_alerts": ["became_mql"]}
    still_mql = think(closed, HOT, first.state)
    assert still_mql.alerts == () and "became_mql" in still_mql.state["alerts"]
    now_sql = think({**closed, "lead_status": "IN_PROGRESS"}, HOT, first.state)
    assert now_sql.alerts == () and now_sql.state["alerts"] == {}


@pytest.mark.parametrize(("facts", "events", "reasons", "sla_hours"), [
    ({"owner_id": "005OWNER"}, [Event("demo_request", NOW - timedelta(hours=30))], ["demo_request"], 4),
    ({"owner_id": "005OWNER"}, [Event("demo_request", NOW - timedelta(days=3))], [], None),  # 2-day window
])
def test_hand_raiser_alert(facts: dict[str, Any], events: list[Event], reasons: list[str],
                           sla_hours: int | None) -> None:
    result = think(facts, events)
    assert [a.reason for a in result.alerts] == reasons
    for alert in result.alerts:
        assert (alert.owner_id, alert.owner_source) == ("005OWNER", "record")
        assert alert.due_at == NOW + timedelta(hours=sla_hours or 0)


def test_pricing_after_nurture_needs_three_touches() -> None:
    pricing = [Event("page_view", NOW - timedelta(days=1), {"url": "/pricing"})]
    state = {"sent": [[f"awareness:t{i}", (NOW - timedelta(days=30 - i)).isoformat(), None] for i in range(3)]}
    assert [a.reason for a in think({}, pricing, state).alerts] == ["pricing_after_nurture"]
    assert think({}, pricing, {"sent": state["sent"][:2]}).alerts == ()


@pytest.mark.parametrize(("kind", "mql_again"), [("email_bounce", False), ("unsubscribe", False),
                                                ("email_click", True)])
def test_a_bounce_after_a_recycle_is_not_new_engagement(kind: str, mql_again: bool) -> None:
    """Issue 10, item 7: after sales recycles a lead, a bounce (or an unsubscribe) newer than the recycle is not
    engagement: a score that still qualifies on old clicks does not make the lead an MQL again. Only an event
    type some engagement rule scores with positive points does (docs/BRAIN.md)."""
    from connector.core.ledger import index_events
    from connector.core.lifecycle import LifecycleRules, positive_events
    from connector.core.predicates import Ctx

    rules = LifecycleRules(SETTINGS.lifecycle, positive_events(SETTINGS.scoring))
    later = NOW + timedelta(hours=1)
    events = [*HOT, Event(kind, later)]
    nurtured = {**VP, "lead_status": "UNQUALIFIED", "lifecycle_stage": "lead"}
    life = rules.decide(Ctx(nurtured, index_events(events, later), later), "lead", "lead", True, "score",
                        NOW + timedelta(minutes=1))
    assert (life.stage == "marketingqualifiedlead") is mql_again, life.reason
    if not mql_again:
        assert "no engagement since the recycle" in life.reason
