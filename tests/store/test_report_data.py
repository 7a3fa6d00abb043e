"""Reports read the real store: stage times from lifecycle write-backs in the audit, persona and segments
as last written, touches and A/B arms from the brain state, engagement by any of the contact's keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, insert

from connector.cli import cli
from connector.engine.report_data import build_report, load_history, parse_since
from connector.settings.loader import load_settings
from connector.store import open_engine, upgrade
from connector.store.models import audit, contacts, engagement

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(REPO / "app.yaml", check_env=False)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(contacts), [
            {"id": 1, "email": "ann@corp.io", "hubspot_id": "101", "salesforce_id": None, "synced": {},
             "created_at": at(1), "updated_at": at(9),
             "brain": {"lifecycle": "salesqualifiedlead", "lifecycle_at": at(9).isoformat(), "track": None,
                       "sent": [["awareness:welcome", at(2).isoformat(), "welcome", "welcome_subject=B"]]}},
            {"id": 2, "email": "bob@corp.io", "hubspot_id": None, "salesforce_id": "00Q000000000002AAA",
             "synced": {"email_optout": True}, "created_at": at(1), "updated_at": at(3),
             "brain": {"lifecycle": "lead", "lifecycle_at": at(1).isoformat(), "track": "awareness",
                       "sent": [["awareness:welcome", at(2).isoformat(), "welcome", "welcome_subject=A"]]}},
        ])
        rows = [
            # HubSpot got "lead" then MQL; Salesforce's copy of MQL came a minute later: the first write counts
            ("hubspot", "lifecyclestage", "lead", at(1)),
            ("hubspot", "lifecyclestage", "marketingqualifiedlead", at(5)),
            ("salesforce", "Lifecycle_Stage__c", "marketingqualifiedlead", at(5, 10)),
            ("hubspot", "lifecyclestage", "", at(6)),  # a recycle clears the field first: not a stage
            ("hubspot", "nurture_persona", "technical_evaluator", at(2)),
            ("hubspot", "nurture_persona", "executive_buyer", at(4)),
            ("hubspot", "nurture_segments", "enterprise;hot", at(4)),
        ]
        conn.execute(insert(audit), [{"run_id": "r", "at": when, "contact_id": 1, "system": system,
                                      "object_type": "contact", "object_id": "101", "action": "update",
                                      "field": field, "before": None, "after": value} for system, field, value, when
                                     in rows])
        keys = {"email": None, "hubspot_id": None, "salesforce_id": None}
        conn.execute(insert(engagement), [{**keys, **row} for row in [
            {"event_key": "e1", "source": "hubspot", "event_type": "email_click", "occurred_at": at(3),
             "hubspot_id": "101", "properties": {}},
            {"event_key": "e2", "source": "web", "event_type": "demo_request", "occurred_at": at(4),
             "email": "ann@corp.io", "properties": {}},
            {"event_key": "e3", "source": "hubspot", "event_type": "email_open", "occurred_at": at(3),
             "salesforce_id": "00Q000000000002AAA", "properties": {}},
            {"event_key": "e4", "source": "hubspot", "event_type": "email_open", "occurred_at": at(3),
             "email": "stranger@else.io", "properties": {}},
        ]])


def test_history_from_the_store(store_engine: Engine) -> None:
    seed(store_engine)
    h = load_history(store_engine, SETTINGS, datetime(2026, 1, 1, tzinfo=UTC), now=at(20))
    ann, bob = sorted(h.people, key=lambda p: p.id)
    assert ann.stage == "salesqualifiedlead"
    assert ann.reached == {"lead": at(1), "marketingqualifiedlead": at(5), "salesqualifiedlead": at(9)}
    assert (ann.persona, ann.segments) == ("executive_buyer", ("enterprise", "hot"))
    assert [(a.type, a.source) for a in ann.activity] == [("email_click", "hubspot"), ("demo_request", "web")]
    assert ann.sent[0].variant == "welcome_subject=B" and ann.sent[0].touch == "welcome"
    assert [a.type for a in bob.activity] == ["email_open"] and bob.unsubscribed and bob.track == "awareness"
    funnel = {r[0]: r[1:] for r in build_report("funnel", h, SETTINGS).rows}
    assert funnel["lead"] == [1, 2, 1, 0.5] and funnel["MQL"] == [0, 1, 1, 1.0]
    ab = build_report("ab", h, SETTINGS).rows
    assert [(r[1], r[4], r[5]) for r in ab] == [("A", 1, 0), ("B", 1, 1)]  # ann reached MQL 3 days after


def test_parse_since() -> None:
    now = datetime(2026, 3, 31, tzinfo=UTC)
    assert parse_since("30d", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2026, 3, 17, tzinfo=UTC)
    assert parse_since("2026-01-31", now) == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ValueError, match="use 90d"):
        parse_since("lately", now)


def test_report_command_formats_and_usage_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = open_engine(url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    runner = CliRunner()

    def run(*args: str) -> Result:  # in-process: four interpreter start-ups would cost 14 s
        return runner.invoke(cli, ["--config", str(REPO / "app.yaml"), "report", *args],
                             env={"NURTURE_STORE_URL": url})

    as_json = run("funnel", "--since", "2026-01-01", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    rows = {r["stage"]: r for r in json.loads(as_json.stdout)["rows"]}
    assert rows["SQL"]["contacts now"] == 1 and rows["lead"]["entered in period"] == 2
    table = run("velocity", "--since", "2026-01-01")
    assert "lead → MQL" in table.stdout and "median days" in table.stdout
    csv = run("tracks", "--since", "2026-01-01", "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("track,touch,enrolled")
    bad = run("funnel", "--since", "lately")
    assert bad.exit_code == 2 and "use 90d" in bad.output and "Traceback" not in bad.output


def test_snapshots_round_trip_and_large_stores_compute_in_the_background(
        sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from connector.engine import report_snapshots

    seed(sqlite_engine)
    monkeypatch.setattr(report_snapshots, "INLINE_UP_TO", 0)  # as if the store were large
    assert report_snapshots.get(sqlite_engine, SETTINGS, "2026-01-01") == (None, None)
    for _ in range(100):  # the background thread saves it
        found = report_snapshots.load(sqlite_engine, "2026-01-01")
        if found is not None:
            break
        time.sleep(0.05)
    assert found is not None
    computed_at, reports = found
    assert set(reports) == {"funnel", "velocity", "cohorts", "tracks", "sources", "ab"}
    funnel = {r[0]: r[1:] for r in reports["funnel"].rows}
    assert funnel["SQL"][0] == 1 and reports["funnel"].drill  # rows and their contacts survive the JSON
    assert report_snapshots.get(sqlite_engine, SETTINGS, "2026-01-01")[0] == computed_at  # fresh: reused


def test_store_gauges_and_dashboard_health_on_both_databases(store_engine: Engine) -> None:
    from connector.metrics.store_gauges import StoreCollector
    from webhooks import dashboard_queries

    seed(store_engine)
    families = {f.name: f for f in StoreCollector(store_engine, SETTINGS, cache_s=0)._read()}
    moves = {(s.labels["stage"], s.labels["field"]): s.value for s in families["nurture_stage_transitions"].samples}
    # JSON `after` grouped as text on PostgreSQL too; the empty recycle write is no stage
    assert moves == {("lead", "lifecyclestage"): 1, ("marketingqualifiedlead", "lifecyclestage"): 1,
                     ("marketingqualifiedlead", "Lifecycle_Stage__c"): 1}
    assert {s.labels["type"]: s.value for s in families["nurture_engagement_facts"].samples}["email_open"] == 2
    health = dashboard_queries.health(store_engine)
    assert [c["state"] for c in health.crms] == ["connected", "connected"] and health.contacts == 2
    assert [r["email"] for r in dashboard_queries.search_contacts(store_engine, "bob")] == ["bob@corp.io"]
