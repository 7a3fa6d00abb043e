"""What the CRMs refuse and how they misbehave: each case converges with an audit trail and no twin."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from connector.cli import cli


def test_picklist_value_without_a_mapping_is_audited_and_the_rest_syncs(rig: Any) -> None:
    hs_id = rig.hs_create(email="pick@example.org", firstname="Pick", lastname="List", company="P",
                          industry="AIRLINES_AVIATION")  # not in the industry `values` map
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead = rig.sf("Lead", rig.link(hubspot_id=hs_id).salesforce_id)
    assert lead["FirstName"] == "Pick" and not lead.get("Industry")
    errors = [r for r in rig.audit_rows("problem") if r.field == "industry"]
    assert errors and "AIRLINES_AVIATION" in errors[0].message


def test_required_field_refusal_goes_to_the_dead_letter_list_with_the_crm_message(rig: Any) -> None:
    hs_id = rig.hs_create(email="req@example.org", firstname="Re", lastname="Quired", company="R")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, lastname="", jobtitle="Still syncs")
    other = rig.hs_create(email="other@example.org", firstname="Oth", lastname="Er", company="O")
    rig.mark("hubspot", hs_id)
    rig.mark("hubspot", other)
    rig.sync()
    (letter,) = rig.dead_letters()
    assert letter.system == "salesforce" and letter.error_code == "REQUIRED_FIELD_MISSING"
    assert "LastName" in letter.message
    assert rig.link(hubspot_id=other).salesforce_id, "one refusal never blocks the rest of the batch"
    assert rig.sf("Lead", lead_id)["LastName"] == "Quired"


def test_long_text_is_truncated_to_the_salesforce_length_not_refused(rig: Any) -> None:
    title = "Senior Vice President of Global Revenue Operations, Strategy and Enablement " * 3
    hs_id = rig.hs_create(email="long@example.org", firstname="Lo", lastname="Ng", company="L", jobtitle=title)
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    length = rig.clients.salesforce.lengths("Lead")["Title"]
    assert rig.sf("Lead", lead_id)["Title"] == " ".join(title.split())[:length]
    assert rig.dead_letters() == []
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    assert rig.hs(hs_id)["jobtitle"] == title, "the truncated copy never flows back"
    assert rig.sync().writes == 0


def test_hubspot_refusal_of_one_record_in_a_batch(rig: Any) -> None:
    """HubSpot refuses an invalid option for one contact; the other contacts' updates in the batch land, and so do
    that contact's other fields: only the refused property is dead-lettered (issue 10, item 4)."""
    ids = [rig.hs_create(email=f"batch{i}@example.org", firstname=f"B{i}", lastname="Atch", company="B")
           for i in range(3)]
    for hs_id in ids:
        rig.mark("hubspot", hs_id)
    rig.sync()
    leads = [rig.link(hubspot_id=i).salesforce_id for i in ids]
    rig.sf_edit("Lead", leads[0], {"Status": "Working - Contacted", "Title": "T0"})
    rig.sf_edit("Lead", leads[1], {"Title": "T1"})
    # An admin removes IN_PROGRESS from HubSpot's lead status options: that one write is refused.
    status = rig.boxes.hubspot.state.properties["contacts"]["hs_lead_status"]
    status["options"] = [o for o in status["options"] if o["value"] != "IN_PROGRESS"]
    for lead in leads:
        rig.mark("salesforce", lead, "Lead")
    rig.sync()
    assert rig.hs(ids[1])["jobtitle"] == "T1"
    assert rig.hs(ids[0])["jobtitle"] == "T0", "the accepted field of the refused record is written"
    assert rig.hs(ids[0]).get("hs_lead_status") != "IN_PROGRESS"
    (letter,) = rig.dead_letters()
    assert letter.system == "hubspot" and letter.object_id == ids[0]
    assert "IN_PROGRESS" in letter.message and set(letter.payload) == {"hs_lead_status"}
    # The refused field is retried with the contact (its base was kept); the same refusal counts an attempt.
    rig.mark("salesforce", leads[0], "Lead")
    rig.sync()
    (letter,) = rig.dead_letters()
    assert letter.attempts == 2


def test_rate_limit_storm_is_retried_until_it_passes(rig: Any) -> None:
    hs_id = rig.hs_create(email="storm@example.org", firstname="St", lastname="Orm", company="S")
    requests.post(f"{rig.boxes.hubspot.url}/__sandbox/faults", json={"storm_429": 3}, timeout=10).raise_for_status()
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.link(hubspot_id=hs_id).salesforce_id
    calls = rig.boxes.hubspot.calls.snapshot()
    assert sum(calls.values()) >= 4


def test_expired_session_signs_in_again_once(rig: Any) -> None:
    hs_id = rig.hs_create(email="session@example.org", firstname="Se", lastname="Ssion", company="S")
    rig.mark("hubspot", hs_id)
    rig.sync()
    rig.boxes.salesforce.faults.update({"expire_sessions": 1})
    rig.hs_edit(hs_id, jobtitle="Renewed")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.sf("Lead", rig.link(hubspot_id=hs_id).salesforce_id)["Title"] == "Renewed"
    assert rig.boxes.salesforce.calls.snapshot().get("POST /services/oauth2/token", 0) >= 2


def test_an_outage_keeps_the_marks_and_never_dead_letters_them(rig: Any) -> None:
    from sqlalchemy import select, update

    from connector.store.models import dirty

    hs_id = rig.hs_create(email="outage@example.org", firstname="Out", lastname="Age", company="O")
    rig.boxes.salesforce.faults.update({"outage_s": 60})
    rig.mark("hubspot", hs_id)
    for _ in range(3):
        with rig.engine.begin() as conn:  # due again now, and already on its last attempt
            conn.execute(update(dirty).where(dirty.c.object_id == hs_id).values(
                attempts=rig.settings.app.worker.max_attempts - 1, due_at=dirty.c.marked_at))
        totals = rig.worker.drain()
        assert totals.errors, "an outage is reported, not hidden"
    assert rig.dead_letters() == [], "a CRM that is down fails every record alike: no dead letters"
    with rig.engine.connect() as conn:
        assert conn.execute(select(dirty).where(dirty.c.object_id == hs_id)).first() is not None
    rig.boxes.salesforce.faults.clear()
    time.sleep(0.3)  # the circuit breaker's cool-down (0.2 s in the rig)
    with rig.engine.begin() as conn:
        conn.execute(update(dirty).values(due_at=dirty.c.marked_at))
    rig.sync()
    assert rig.link(hubspot_id=hs_id).salesforce_id, "synced once the CRM is back"


def test_a_batch_that_keeps_failing_for_one_record_becomes_a_dead_letter(rig: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select, update

    from connector.store.models import dirty

    hs_id = rig.hs_create(email="poison@example.org", firstname="Poi", lastname="Son", company="P")
    rig.mark("hubspot", hs_id)

    def poison(ids: Any) -> Any:
        raise ValueError("a record this version cannot read")

    with monkeypatch.context() as patch:
        patch.setattr(rig.worker.lookup, "hubspot_by_id", poison)
        assert rig.worker.drain().errors
        with rig.engine.connect() as conn:
            (attempts,) = conn.execute(select(dirty.c.attempts).where(dirty.c.object_id == hs_id)).one()
        assert attempts == 1
        with rig.engine.begin() as conn:
            conn.execute(update(dirty).where(dirty.c.object_id == hs_id).values(
                attempts=rig.settings.app.worker.max_attempts - 1, due_at=dirty.c.marked_at))
        rig.worker.drain()
    (letter,) = rig.dead_letters()
    assert letter.object_id == hs_id and "gave up after" in letter.message and "cannot read" in letter.message
    replay = CliRunner().invoke(cli, ["--config", str(rig.settings.path), "dlq", "replay"])
    assert "1 record(s) marked" in replay.output
    rig.sync()
    assert rig.link(hubspot_id=hs_id).salesforce_id, "replayed and synced"
