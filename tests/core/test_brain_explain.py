"""`nurture explain`: the score by rule with decay and caps, and every decision with its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.core.brain import Brain, BrainInput
from connector.core.events import Event
from connector.settings.loader import load_settings

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "app.yaml", check_env=False)
BRAIN = Brain(SETTINGS.scoring, SETTINGS.segments, SETTINGS.lifecycle, SETTINGS.nurture, SETTINGS.alerts)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
FACTS = {"email": "ann@acme.com", "job_title": "VP Engineering", "employees": 1200,
         "industry": "COMPUTER_SOFTWARE", "country": "United States", "timezone": "Europe/Berlin"}
EVENTS = ([Event("webinar_attend", NOW - timedelta(hours=h), content_id=f"w{h}") for h in (1, 2, 3)]
          + [Event("email_open", NOW - timedelta(days=30))] * 8)


def test_explain_prints_every_number_and_reason() -> None:
    result = BRAIN.think(BrainInput(FACTS, EVENTS, None, NOW, explain=True))
    lines = result.explain()
    expected = [
        "score 74 = fit 45 + engagement 29",
        "fit 45 (sum 45.00)",
        "engagement 29 (sum 29.00)",
        "  group email (half-life 30 d): 4.00",
        "    email_open: 8 × +1 = +8, decayed +4.00",  # one half-life
        "  group content (half-life 45 d): 29.96, cap 25 → 25.00",
        "    webinar_attend: 3 × +10 = +30, decayed +29.96",
        "content interactions: 3",
        "  content_engaged  [content_interactions gte 3]",
        "journey stage: consideration  [content_download/webinar_attend/survey_answer within 90 days]",
        "lifecycle: marketingqualifiedlead  [score: fit 45 ≥ 25 and engagement 29 ≥ 20]",
        "due now: consideration:buyer's guide (email, hubspot_workflow_id=9301)",
        "next touch: consideration:comparison sheet at 2026-03-13 15:00 UTC",
        "alert raised now: became_mql → 0055e0000000004AAA (round robin), due 2026-03-11 15:00 UTC",
        "  2026-03-10 14:00 UTC  webinar_attend w1",
    ]
    for line in expected:
        assert line in lines, line
    assert result.writeback == {
        "score": 74, "fit_score": 45, "engagement_score": 29, "persona": "executive_buyer",
        "segments": "enterprise;content_engaged", "journey_stage": "consideration", "track": "consideration",
        "next_touch": "2026-03-13", "lifecycle_stage": "marketingqualifiedlead",
    }


def test_state_is_plain_json() -> None:
    result = BRAIN.think(BrainInput(FACTS, EVENTS, None, NOW))
    assert json.loads(json.dumps(result.state)) == result.state
    assert BRAIN.think(BrainInput(FACTS, EVENTS, json.loads(json.dumps(result.state)), NOW)).state == result.state
