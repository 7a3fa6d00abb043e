"""Preflight against the sandbox CRMs through the real SDKs: each kind of mistake becomes one failed check with
its fix; the shipped configuration passes once install has run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.commands.preflight_cmds import preflight_checks
from connector.engine.install import apply_plan, plan_install
from connector.engine.preflight import Check, _headroom, run_preflight
from connector.engine.preflight_types import hubspot_family, incompatibility, salesforce_family, written_sides
from connector.sandbox.launcher import Sandboxes, start_sandboxes
from connector.settings import load_settings
from connector.settings.mapping_config import FieldMapping

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def boxes() -> Iterator[Sandboxes]:
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, seed=6)
    try:
        yield boxes
    finally:
        boxes.stop()


@pytest.fixture(scope="module")
def env(boxes: Sandboxes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(boxes.env())
    installed = tmp_path_factory.mktemp("installed")
    for name in ("app.yaml", "mappings", "config"):
        (shutil.copytree if name != "app.yaml" else shutil.copy)(REPO / name, installed / name)
    settings = load_settings(installed / "app.yaml", env=env)
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from connector.engine.clients import build_clients
    from connector.store.models import metadata

    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    clients = build_clients(settings, engine)
    apply_plan(plan_install(settings, clients, installed / "install", None, None), clients)  # `nurture install`
    return env


@pytest.fixture
def site(config_dir: Path, env: dict[str, str]) -> Path:
    return config_dir


def checks_for(site: Path, env: dict[str, str], cheap: bool = False) -> list[Check]:
    return preflight_checks(load_settings(site / "app.yaml", env=env), cheap=cheap)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_shipped_configuration_passes_after_install(site: Path, env: dict[str, str]) -> None:
    checks = checks_for(site, env)
    assert [c for c in checks if not c.ok] == []
    names = {c.name for c in checks}
    assert {"hubspot: credentials", "hubspot: scope crm.objects.contacts.write", "hubspot: property industry",
            "hubspot: write-back nurture_score", "hubspot: workflow 9001", "hubspot: list 301",
            "salesforce: object CampaignMember", "salesforce: field Lead.Industry",
            "salesforce: external id Lead.HubSpot_Id__c", "salesforce: campaign 7015e0000000001AAA",
            "salesforce: user 0055e0000000002AAA", "hubspot: API headroom", "salesforce: API headroom"} <= names
    lengths = next(c for c in checks if c.name == "salesforce: field Lead.Title")
    assert "length 128" in lengths.message  # Salesforce field lengths are known


# (file, old, new, check name, message fragment, fix fragment)
BROKEN = {
    "Salesforce field that does not exist": (
        "mappings/contact.yaml", "    salesforce: Title\n", "    salesforce: Titel\n",
        "salesforce: field Lead.Titel", "Lead.Titel (mapped field 'job_title') does not exist", "'Title'"),
    "Salesforce field of another type": (
        "mappings/contact.yaml", "    salesforce: {Lead: Company}\n", "    salesforce: {Lead: NumberOfEmployees}\n",
        "salesforce: field Lead.NumberOfEmployees", "(int) cannot hold field 'company'", "type: number"),
    "Salesforce field the user cannot edit": (
        "mappings/contact.yaml", "    salesforce: Title\n", "    salesforce: {Lead: Name}\n",
        "salesforce: field Lead.Name", "is not editable by the integration user", "field-level security"),
    "Salesforce picklist value that does not exist": (
        "mappings/contact.yaml", "IN_PROGRESS: Working - Contacted", "IN_PROGRESS: Working",
        "salesforce: field Lead.Status", "Lead.Status does not have: Working", "picklist"),
    "external id that is not External ID": (
        "mappings/contact.yaml", "external_id_field: HubSpot_Id__c", "external_id_field: Title",
        "salesforce: external id Lead.Title", "is not marked External ID and Unique", "tick both boxes"),
    "HubSpot property that does not exist": (
        "mappings/contact.yaml", "    hubspot: jobtitle\n", "    hubspot: job_title\n",
        "hubspot: property job_title", "HubSpot property 'job_title' (mapped field 'job_title') does not exist",
        "'jobtitle'"),
    "HubSpot property that is read-only": (
        "mappings/contact.yaml", "    hubspot: website\n", "    hubspot: hs_additional_emails\n",
        "hubspot: property hs_additional_emails", "is read-only, but mapped field 'website' writes it", "writable"),
    "Salesforce campaign that does not exist": (
        "config/nurture.yaml", "7015e0000000002AAA", "7015e0000000099AAA",
        "salesforce: campaign 7015e0000000099AAA", "Campaign 7015e0000000099AAA does not exist", "config/nurture.yaml"),
    "Salesforce user that does not exist": (
        "config/alerts.yaml", '"0055e0000000004AAA"', '"0055e0000000099AAA"',
        "salesforce: user 0055e0000000099AAA", "User 0055e0000000099AAA does not exist", "round_robin_salesforce"),
    "HubSpot list that does not exist": (
        "config/nurture.yaml", 'hubspot_list_id: "302"', 'hubspot_list_id: "9999"',
        "hubspot: list 9999", "list 9999 does not exist", "static (MANUAL)"),
    "HubSpot owner that does not exist": (
        "config/alerts.yaml", "round_robin_hubspot: []", 'round_robin_hubspot: ["424242"]',
        "hubspot: owner 424242", "owner 424242 does not exist", "config/alerts.yaml"),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_each_mistake_is_one_failed_check_with_its_fix(site: Path, env: dict[str, str],
                                                       case: tuple[str, str, str, str, str, str]) -> None:
    rel, old, new, name, message, fix = case
    _edit(site / rel, old, new)
    failing = [c for c in checks_for(site, env) if not c.ok]
    matching = [c for c in failing if c.name == name and message in c.message]
    assert matching, [f"{c.name}: {c.message}" for c in failing]
    assert fix in matching[0].fix


def test_a_dynamic_list_is_refused(boxes: Sandboxes, site: Path, env: dict[str, str]) -> None:
    created = requests.post(f"{boxes.hubspot.url}/crm/v3/lists/", timeout=10, json={
        "name": "Everyone in Canada", "objectTypeId": "0-1", "processingType": "DYNAMIC"},
        headers={"Authorization": f"Bearer {env['HUBSPOT_ACCESS_TOKEN']}"}).json()["list"]
    _edit(site / "config/nurture.yaml", 'hubspot_list_id: "302"', f'hubspot_list_id: "{created["listId"]}"')
    check = next(c for c in checks_for(site, env) if c.name == f"hubspot: list {created['listId']}")
    assert not check.ok and "is DYNAMIC" in check.message


@pytest.mark.parametrize(("variable", "name", "message"), [
    ("HUBSPOT_ACCESS_TOKEN", "hubspot: credentials", "HubSpot refused the token in HUBSPOT_ACCESS_TOKEN"),
    ("SALESFORCE_PASSWORD", "salesforce: credentials", "Salesforce refused the sign-in"),
])
def test_wrong_credentials(site: Path, env: dict[str, str], variable: str, name: str, message: str) -> None:
    checks = checks_for(site, {**env, variable: "wrong-" + env[variable]})
    check = next(c for c in checks if c.name == name)
    assert not check.ok and message in check.message
    assert env[variable] not in check.message  # a secret never appears in a message


def test_the_cheap_part_reads_only_what_a_start_needs(boxes: Sandboxes, site: Path, env: dict[str, str]) -> None:
    before = boxes.hubspot.calls.total() + boxes.salesforce.calls.total()
    checks = checks_for(site, env, cheap=True)
    spent = boxes.hubspot.calls.total() + boxes.salesforce.calls.total() - before
    assert all(c.ok for c in checks)
    assert not any("workflow" in c.name or "scope" in c.name or "headroom" in c.name for c in checks)
    assert spent <= 6, spent  # properties, sign-in and two describes, not one call per id


def test_a_crm_that_stops_answering_is_one_failed_check(site: Path, env: dict[str, str]) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from connector.engine.clients import build_clients
    from connector.store.models import metadata

    settings = load_settings(site / "app.yaml", env={**env, "HUBSPOT_BASE_URL": "http://127.0.0.1:9"})
    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    clients = build_clients(settings, engine)
    clients.hubspot.max_wait_s = 0.01
    checks = run_preflight(settings, clients, cheap=True)
    assert [c.name for c in checks if not c.ok] == ["hubspot: reachable"]


def test_headroom_compares_the_backfill_cost_with_what_is_left() -> None:
    assert _headroom("hubspot", 1000, 100, 0.8, 700, "").ok
    short = _headroom("hubspot", 1000, 100, 0.8, 701, "")
    assert not short.ok and "700 more today" in short.message and "--limit" in short.fix


@pytest.mark.parametrize(("field", "family", "written", "ok"), [
    ({"name": "company"}, "text", True, True),
    ({"name": "company"}, "enum", True, False),        # free text into an enumeration
    ({"name": "company"}, "enum", False, True),        # an enumeration read as text
    ({"name": "industry", "type": "enum"}, "enum", True, True),
    ({"name": "industry", "type": "enum"}, "text", True, True),  # a list value written as text
    ({"name": "optout", "type": "boolean"}, "bool", True, True),
    ({"name": "optout", "type": "boolean"}, "number", True, False),
    ({"name": "employees", "type": "integer"}, "number", True, True),
    ({"name": "employees", "type": "integer"}, "enum", True, False),  # HubSpot's numemployees is a range
    ({"name": "seen", "type": "datetime"}, "date", True, False),
])
def test_type_compatibility(field: dict[str, str], family: str, written: bool, ok: bool) -> None:
    mapping = FieldMapping.model_validate({"hubspot": "x", **field})
    assert (incompatibility(mapping, family, written) is None) is ok


def test_type_families_and_written_sides() -> None:
    assert hubspot_family("enumeration", "checkbox") == "multi" and hubspot_family("enumeration", "select") == "enum"
    assert hubspot_family("bool", "booleancheckbox") == "bool"
    assert salesforce_family("picklist") == "enum" and salesforce_family("double") == "number"
    assert salesforce_family("email") == "text"
    one_way = FieldMapping.model_validate({"name": "source", "hubspot": "a", "salesforce": "B",
                                           "sync": "hubspot_to_salesforce"})
    assert written_sides(one_way) == {"salesforce"}
