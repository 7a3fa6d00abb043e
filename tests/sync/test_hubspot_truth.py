"""What a real HubSpot portal does that the first release assumed otherwise (issue 9), each driven through
the connector's HubSpot client (the real SDK) against the sandbox over HTTP."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from connector.crm.breaker import CircuitBreaker, CircuitOpen
from connector.crm.errors import DailyLimitReached, RecordError, RetryableError
from connector.crm.hubspot import TASK_KEY, HubSpotClient
from connector.sandbox.fake_people import generate_people
from connector.sandbox.hubspot.state import iso


def _client(rig: Any, **kwargs: Any) -> HubSpotClient:
    client = HubSpotClient(rig.boxes.hubspot.url, rig.boxes.hubspot.context.access_token, **kwargs)
    client.max_wait_s = 0.2
    # These tests are about timeouts and retries; the breaker that stops them is tests/crm/test_breaker.py's.
    client.breaker = CircuitBreaker("hubspot", threshold=1_000)
    return client


def test_engagement_counters_are_properties_a_real_portal_has(rig: Any) -> None:
    names = {p.name for p in rig.clients.hubspot.sdk.crm.properties.core_api.get_all("contacts").results}
    engagement = rig.settings.mapping.engagement
    assert set(engagement.hubspot_counters) <= names
    assert set(engagement.hubspot_last_dates.values()) <= names
    assert {"hs_email_open", "hs_email_click", "hs_email_delivered", "hs_email_bounce"} <= names
    assert not {"hs_email_open_count", "hs_email_click_count"} & names, "invented names are gone"


def test_reading_a_property_that_does_not_exist_is_said_not_read_as_empty(rig: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    contact_id = rig.hs_create(email="ghost@example.com")
    with caplog.at_level(logging.ERROR, logger="connector.crm.hubspot"):
        found = rig.clients.hubspot.read([contact_id], ["email", "hs_email_open_count"])
    assert "hs_email_open_count" not in found[contact_id].properties  # HubSpot leaves it out, not null
    assert "hs_email_open_count" in rig.clients.hubspot.unknown_properties
    assert "hs_email_open_count" in caplog.text and "preflight" in caplog.text


def test_a_hung_call_times_out_and_is_retried(rig: Any) -> None:
    client = _client(rig, timeout_s=(1.0, 0.3))
    contact_id = rig.hs_create(email="slow@example.com")
    rig.boxes.hubspot.faults.update({"hang_s": 30, "hang_rate": 1})
    started = time.monotonic()
    with pytest.raises(RetryableError):
        client.read([contact_id], ["email"])
    assert time.monotonic() - started < 15, "every attempt ended at its read timeout"
    rig.boxes.hubspot.faults.clear()
    assert client.read([contact_id], ["email"])[contact_id].properties["email"] == "slow@example.com"


def test_raw_requests_get_the_timeout_too(rig: Any) -> None:
    client = _client(rig, timeout_s=(1.0, 0.3))
    rig.boxes.hubspot.faults.update({"hang_s": 30, "hang_rate": 1})
    started = time.monotonic()
    with pytest.raises(RetryableError):
        client.request("GET /automation/v2/workflows", "GET", "/automation/v2/workflows")
    assert time.monotonic() - started < 15
    rig.boxes.hubspot.faults.clear()


def test_batch_errors_are_matched_by_trace_id_never_by_position(rig: Any) -> None:
    ids = [rig.hs_create(email=f"t{i}@example.com") for i in range(4)]
    changes: dict[str, dict[str, Any]] = {i: {"jobtitle": f"Title {n}"} for n, i in enumerate(ids)}
    changes[ids[1]] = {"industry": "NOT_AN_INDUSTRY", "jobtitle": "x"}
    changes["999999"] = {"jobtitle": "nobody"}
    outcome = rig.clients.hubspot.update(changes)
    assert set(outcome.done) == {ids[0], ids[2], ids[3]}
    refused = {e.key: e for e in outcome.errors}
    assert set(refused) == {ids[1], "999999"}
    assert refused[ids[1]].code == "VALIDATION_ERROR" and refused[ids[1]].fields == ("industry",)
    assert refused["999999"].code == "OBJECT_NOT_FOUND"
    assert rig.hs(ids[2])["jobtitle"] == "Title 2" and rig.hs(ids[1]).get("jobtitle") in (None, "")


def test_a_task_batch_with_one_bad_input_creates_the_rest_and_names_the_right_person(rig: Any) -> None:
    ids = [rig.hs_create(email=f"task{i}@example.com") for i in range(5)]
    tasks = [{"contact_id": cid, "properties": {"hs_task_subject": f"Call {n}", "hs_timestamp": iso(0),
                                                "hs_task_priority": "HIGH", TASK_KEY: f"{cid}:call"}}
             for n, cid in enumerate(ids)]
    tasks[3]["properties"]["hs_task_priority"] = "URGENT"  # not one of HubSpot's options
    results = rig.clients.hubspot.create_tasks(tasks)
    assert [isinstance(r, str) for r in results] == [True, True, True, False, True]
    bad = results[3]
    assert isinstance(bad, RecordError) and bad.key == ids[3] and bad.fields == ("hs_task_priority",)
    subjects = sorted(t.properties["hs_task_subject"] for t in rig.boxes.hubspot.state.objects["tasks"].values())
    assert subjects == ["Call 0", "Call 1", "Call 2", "Call 4"]


def test_tasks_stay_single_when_the_create_is_processed_then_answered_5xx(rig: Any) -> None:
    ids = [rig.hs_create(email=f"once{i}@example.com") for i in range(3)]
    tasks = [{"contact_id": cid, "properties": {"hs_task_subject": "Call", "hs_timestamp": iso(0),
                                                TASK_KEY: f"{cid}:call"}} for cid in ids]
    rig.boxes.hubspot.faults.update({"after_error_rate": 1, "seed": 1})
    try:
        with pytest.raises((RetryableError, CircuitOpen)):
            rig.clients.hubspot.create_tasks(tasks)  # every answer is lost; the looks-ups keep it single
    finally:
        rig.boxes.hubspot.faults.clear()
    time.sleep(0.3)  # the breaker's (test-length) cool-down
    existing = rig.clients.hubspot.existing_task_keys([t["properties"][TASK_KEY] for t in tasks])  # as executors do
    results = rig.clients.hubspot.create_tasks([t for t in tasks if t["properties"][TASK_KEY] not in existing])
    assert all(isinstance(r, str) for r in results)
    keys = [t.properties.get(TASK_KEY) for t in rig.boxes.hubspot.state.objects["tasks"].values()]
    assert sorted(keys) == sorted(f"{cid}:call" for cid in ids), "one task per key, whatever was retried"


def test_contact_upserts_stay_single_under_processed_then_5xx(rig: Any) -> None:
    rig.boxes.hubspot.faults.update({"after_error_rate": 0.5, "seed": 3})
    try:
        for _ in range(4):
            with contextlib.suppress(RetryableError):
                rig.clients.hubspot.upsert_by_email({f"u{i}@example.com": {"firstname": "U"} for i in range(10)})
    finally:
        rig.boxes.hubspot.faults.clear()
    outcome = rig.clients.hubspot.upsert_by_email({f"u{i}@example.com": {"firstname": "U"} for i in range(10)})
    assert len(outcome.done) == 10 and not outcome.errors
    emails = [c.properties.get("email") for c in rig.boxes.hubspot.state.contacts.values() if not c.archived]
    assert sorted(emails) == sorted(f"u{i}@example.com" for i in range(10))


def test_daily_limit_pauses_calls_instead_of_retrying(rig: Any) -> None:
    rig.boxes.hubspot.limiter.configure(190, 3, 5)  # a portal with three calls a day left
    contact_id = rig.hs_create(email="daily@example.com")
    client = _client(rig, budget=rig.clients.budget)
    for _ in range(3):
        client.read([contact_id], ["email"])
    before = rig.boxes.hubspot.calls.total()
    with pytest.raises(DailyLimitReached) as exc:
        client.read([contact_id], ["email"])
    assert rig.boxes.hubspot.calls.total() - before == 1, "the daily 429 is not retried"
    assert exc.value.retry_after and exc.value.retry_after > 60
    with pytest.raises(DailyLimitReached):  # every process sees the pause: no call is even sent
        _client(rig, budget=rig.clients.budget).read([contact_id], ["email"])
    assert rig.boxes.hubspot.calls.total() - before == 1


def test_search_pace_is_shared_by_every_client_on_one_store(rig: Any) -> None:
    slept: list[float] = []
    budget = rig.clients.budget
    budget._sleep = slept.append  # record the waits instead of sitting them out
    for _ in range(5):
        budget.pace("hubspot:search", 0.2)
    assert len(slept) >= 4 and sum(slept) == pytest.approx(0.2 * 10, rel=0.3), "turns queue behind each other"


def _walk_past_the_cap(rig: Any, monkeypatch: pytest.MonkeyPatch, total: int, cap: int, same_ms: int) -> None:
    import connector.crm.hubspot as hubspot_module
    import connector.sandbox.hubspot.search as search_module

    monkeypatch.setattr(search_module, "MAX_RESULTS", cap)  # both sides agree on the cap, as in production
    monkeypatch.setattr(hubspot_module, "SEARCH_CAP", cap)
    monkeypatch.setattr(hubspot_module, "SEARCH_GAP_S", 0.0)  # the sandbox's search limit is raised for this walk
    box = rig.boxes.hubspot
    box.limiter.configure(1_000_000, 10_000_000, 10_000)
    ids = box.seed(generate_people(total, seed=11))
    base = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    with box.state.lock:
        for n, contact_id in enumerate(ids):
            record = box.state.contacts[contact_id]
            # `same_ms` changes share one millisecond (an import), more than one query can return
            ms = base + total if total // 5 <= n < total // 5 + same_ms else base + n
            record.updated_at = ms
            record.properties["lastmodifieddate"] = iso(ms)
    seen = [r.id for r in _client(rig).modified_since(datetime(2025, 12, 31, tzinfo=UTC), ["email"])]
    assert set(seen) == set(ids)


def test_a_walk_past_the_search_cap_skips_nothing(rig: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same walk as the 25,000-contact one below, with the cap scaled down to 1,000 on both sides.
    _walk_past_the_cap(rig, monkeypatch, total=2_500, cap=1_000, same_ms=1_050)


@pytest.mark.long
def test_a_walk_past_the_10000_result_cap_skips_nothing(rig: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _walk_past_the_cap(rig, monkeypatch, total=25_000, cap=10_000, same_ms=10_500)


def test_a_worker_facing_hung_calls_releases_its_batch_and_writes_nothing_twice(rig: Any) -> None:
    from sqlalchemy import select

    from connector.engine.worker import Worker
    from connector.store.models import dirty

    rig.clients.hubspot.timeout = (1.0, 0.3)
    ids = [rig.hs_create(email=f"hang{i}@example.com", firstname="H", lastname=f"Ang{i}", company="Slow Co")
           for i in range(12)]
    for contact_id in ids:
        rig.mark("hubspot", contact_id)
    rig.boxes.hubspot.faults.update({"hang_s": 20, "hang_rate": 0.5, "seed": 5})
    worker = Worker(rig.settings, rig.engine, rig.clients)
    try:
        for _ in range(3):
            started = time.monotonic()
            report = worker.run_batch()
            assert time.monotonic() - started < rig.settings.app.worker.lease_s, "no batch outlives its lease"
            if report is not None and report.error:
                with rig.engine.connect() as conn:
                    held = conn.execute(select(dirty.c.lease_owner).where(dirty.c.lease_owner.is_not(None))).all()
                assert not held, "a failed batch gives its marks back at once"
    finally:
        rig.boxes.hubspot.faults.clear()
    for contact_id in ids:
        rig.mark("hubspot", contact_id)
    rig.sync()
    leads = list(rig.boxes.salesforce.state.records["Lead"].values())
    assert sorted(str(lead.get("HubSpot_Id__c")) for lead in leads) == sorted(ids), "one Lead per contact"
