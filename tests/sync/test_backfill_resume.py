"""An interrupted backfill walk resumes from its cursor: what was walked is kept, the CRM is asked only for
what changed after it, a record edited meanwhile is read again, and the end result is the same."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connector.engine.backfill import EPOCH, backfill
from connector.sandbox.fake_people import generate_people


class Interrupted(Exception):
    pass


def test_an_interrupted_walk_resumes_from_its_cursor(rig: Any, tmp_path: Path) -> None:
    people = generate_people(60, seed=5)
    rig.boxes.hubspot.seed(people[:30])
    rig.boxes.salesforce.seed(people[30:])
    spool = tmp_path / "spool"
    asked_from: list[datetime] = []
    walk = rig.clients.salesforce.modified_since

    def spy(sobject: str, since: datetime, *args: Any, **kwargs: Any) -> Any:
        asked_from.append(since)
        return walk(sobject, since, *args, **kwargs)

    rig.clients.salesforce.modified_since = spy
    seen = {"n": 0}

    def stop_in_the_salesforce_walk(source: str, count: int) -> None:
        if source.startswith("salesforce"):
            seen["n"] += count
            if seen["n"] == 12:
                raise Interrupted  # Ctrl-C, a lost connection, a reboot
    with pytest.raises(Interrupted):
        backfill(rig.settings, rig.engine, rig.clients, progress=stop_in_the_salesforce_walk, spool_dir=spool)
    assert all(not lead.get("HubSpot_Id__c") for lead in rig.boxes.salesforce.state.records["Lead"].values())
    assert (spool / "hubspot.jsonl").is_file() and (spool / "salesforce.Lead.jsonl").is_file()

    # Meanwhile people edit the HubSpot contacts the first walk had already read.
    edited = list(rig.boxes.hubspot.state.contacts)
    for hs_id in edited:
        rig.hs_edit(hs_id, jobtitle="Edited while stopped")
    asked_from.clear()
    report = backfill(rig.settings, rig.engine, rig.clients, spool_dir=spool)

    assert report.walked["hubspot"] == 30 and report.walked["salesforce.Lead"] == 30
    assert asked_from[0] > EPOCH, "the Salesforce walk continued from its cursor, not from the beginning"
    assert not spool.exists(), "a whole walk drops its spool before writing"
    from_hubspot = [lead for lead in rig.boxes.salesforce.state.records["Lead"].values()
                    if lead.get("HubSpot_Id__c") in edited]
    assert len(from_hubspot) >= 20
    assert {lead["Title"] for lead in from_hubspot} == {"Edited while stopped"}, "edits made while stopped were read"
    backfill(rig.settings, rig.engine, rig.clients, spool_dir=spool)  # as test_backfill: the second run settles
    again = backfill(rig.settings, rig.engine, rig.clients, spool_dir=spool)
    assert again.writes == 0, "resuming changed nothing about where the data ends"
