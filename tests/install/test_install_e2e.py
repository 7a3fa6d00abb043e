"""An admin's first hour against the sandbox CRMs, through the real command and the real SDKs:
init -> preflight on a broken setup (each failure named) -> fixes -> install (twice: the second changes
nothing) -> serve -> preflight passes -> backfill dry run (totals) -> backfill -> an edit synced by serve +
worker -> uninstall."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from connector.cli import cli
from connector.sandbox.hubspot.account import FULL_SCOPES
from connector.sandbox.launcher import Sandboxes, start_sandboxes
from connector.sandbox.runtime import free_port, wait_until_ready

pytestmark = pytest.mark.slow


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    port = free_port()
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, seed=20, connector_url=f"http://127.0.0.1:{port}",
                            retry_base_s=0.05)
    try:
        for name, value in boxes.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("NURTURE_STORE_URL", raising=False)
        monkeypatch.delenv("NURTURE_CONFIG", raising=False)
        monkeypatch.setenv("NURTURE_PORT", str(port))
        yield {"boxes": boxes, "port": port, "dir": tmp_path / "site"}
    finally:
        boxes.stop()


def nurture(site: dict[str, Any], *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--config", str(site["dir"] / "app.yaml")], catch_exceptions=False)


def test_first_hour(site: dict[str, Any]) -> None:
    boxes: Sandboxes = site["boxes"]
    folder: Path = site["dir"]
    created = CliRunner().invoke(cli, ["init", str(folder), "--public-url", f"http://127.0.0.1:{site['port']}"])
    assert created.exit_code == 0, created.output
    assert nurture(site, "validate").exit_code == 0

    # A deliberately broken setup: a scope missing from the token, write-back properties not made yet
    # (install has not run), a field mapped to a property of another type, a picklist value HubSpot lacks,
    # a workflow that does not exist.
    requests.post(f"{boxes.hubspot.url}/__sandbox/scopes", timeout=10,
                  json={"scopes": [s for s in FULL_SCOPES if s not in ("automation", "crm.schemas.contacts.write")]}
                  ).raise_for_status()
    mapping, nurture_yaml = folder / "mappings/contact.yaml", folder / "config/nurture.yaml"
    _edit(mapping, "    hubspot: company\n", "    hubspot: numemployees\n")
    _edit(mapping, "      INTERNET: Technology\n",
          "      INTERNET: Technology\n      INDUSTRIAL_AUTOMATION: Machinery\n")
    _edit(nurture_yaml, "hubspot_workflow_id: 9403", "hubspot_workflow_id: 9499")

    broken = nurture(site, "preflight")
    assert broken.exit_code == 1
    for expected in (
        "the token lacks scope automation, needed for nurture workflow touches",
        "the token lacks scope crm.schemas.contacts.write, needed for `nurture install` creating the write-back",
        "write-back property 'nurture_score' (the brain's score) does not exist",
        "HubSpot property 'numemployees' (enumeration/select) cannot hold field 'company'",
        "HubSpot's 'industry' does not have: INDUSTRIAL_AUTOMATION",
        "workflow 9499 (awareness/best-practice checklist) does not exist",
    ):
        assert expected in broken.stdout, (expected, broken.stdout)
    checks = json.loads(nurture(site, "preflight", "--json").stdout)
    assert {"name", "ok", "message", "fix"} <= set(checks[0])
    failing = {c["name"] for c in checks if not c["ok"]}
    assert {"hubspot: scope automation", "hubspot: write-back nurture_score", "hubspot: property numemployees",
            "hubspot: property industry", "hubspot: workflow 9499"} <= failing
    assert all(c["fix"] for c in checks if not c["ok"])

    # A worker started now would dead-letter every write: it refuses, with the same message.
    refused = nurture(site, "worker", "--once")
    assert refused.exit_code == 3
    assert "write-back property 'nurture_score'" in refused.stderr

    # The admin fixes what preflight said, then installs.
    requests.post(f"{boxes.hubspot.url}/__sandbox/scopes", timeout=10, json={"scopes": list(FULL_SCOPES)})
    _edit(mapping, "    hubspot: numemployees\n", "    hubspot: company\n")
    _edit(mapping, "      INDUSTRIAL_AUTOMATION: Machinery\n", "")
    _edit(nurture_yaml, "hubspot_workflow_id: 9499", "hubspot_workflow_id: 9403")
    dry = nurture(site, "install", "--dry-run")
    assert "would create HubSpot contacts property nurture_score (number)" in dry.stdout
    assert "nurture_score" not in boxes.hubspot.state.properties["contacts"]
    first = nurture(site, "install")
    assert first.exit_code == 0 and "HubSpot: created contacts property nurture_score" in first.stdout
    package = folder / "install/salesforce"
    assert "<externalId>true</externalId>" in (package / "objects/Lead.object").read_text()
    assert f"http://127.0.0.1:{site['port']}/webhooks/salesforce" in (package / "workflows/Lead.workflow").read_text()
    assert "contact.propertyChange | jobtitle" in (folder / "install/hubspot-webhooks.md").read_text()
    second = nurture(site, "install")
    assert second.exit_code == 0 and "nothing to do" in second.stdout and "created" not in second.stdout

    server = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(folder / "app.yaml"), "serve",
                               "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until_ready(f"http://127.0.0.1:{site['port']}/readyz"), "server did not start"
        ready = nurture(site, "preflight")
        assert ready.exit_code == 0, ready.stdout
        assert "[ok  ] web: public webhook URL" in ready.stdout
        online = nurture(site, "validate", "--online")
        assert online.exit_code == 0 and "configuration OK" in online.stdout and "[FAIL]" not in online.stdout

        plan = nurture(site, "backfill", "--dry-run")
        assert plan.exit_code == 0, plan.output
        assert "create" in plan.stdout and "duplicates expected:" in plan.stdout
        assert "Salesforce daily limit" in plan.stdout
        totals = {line.split()[0]: line.split()[1:4] for line in plan.stdout.splitlines()
                  if line.startswith(("hubspot ", "salesforce "))}
        # Each side creates (some of) the other's 10 people: those the create_when rules let through.
        assert 0 < int(totals["salesforce"][0]) <= 10 and 0 < int(totals["hubspot"][0]) <= 10
        assert not any(lead.get("HubSpot_Id__c") for lead in boxes.salesforce.state.records["Lead"].values())

        done = nurture(site, "backfill")
        assert done.exit_code == 0 and re.search(r"reconciled \d+ people: \d+ writes, \d+ creates, 0 dead letters",
                                                  done.stderr), done.stderr

        # An edit in HubSpot reaches Salesforce: webhook -> serve -> inbox -> worker -> Salesforce.
        hs_id, lead = next((lead["HubSpot_Id__c"], lead) for lead in boxes.salesforce.state.records["Lead"].values()
                           if lead.get("HubSpot_Id__c"))
        requests.patch(f"{boxes.hubspot.url}/__sandbox/ui/contacts/{hs_id}", timeout=10,
                       json={"properties": {"jobtitle": "Head of First Hours"}}).raise_for_status()
        boxes.hubspot.flush_webhooks()
        assert boxes.hubspot.deliverer is not None and boxes.hubspot.deliverer.wait_idle(10)
        worked = nurture(site, "worker", "--once")
        assert worked.exit_code == 0, worked.output
        assert boxes.salesforce.state.records["Lead"][lead["Id"]]["Title"] == "Head of First Hours"
    finally:
        server.terminate()
        server.wait(timeout=15)

    people = len(boxes.hubspot.state.contacts), len(boxes.salesforce.state.records["Lead"])
    removed = nurture(site, "uninstall", "--remove-properties")
    assert removed.exit_code == 0, removed.output
    assert "HubSpot: archived contacts property nurture_score" in removed.stdout
    live = {n for n, p in boxes.hubspot.state.properties["contacts"].items() if not p.get("archived")}
    assert "nurture_score" not in live and "email" in live
    assert (folder / "install/salesforce-uninstall/destructiveChangesPost.xml").is_file()
    # Never data: every contact and lead is still there.
    assert (len(boxes.hubspot.state.contacts), len(boxes.salesforce.state.records["Lead"])) == people
