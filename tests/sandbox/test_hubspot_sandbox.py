"""The HubSpot emulator, driven by the unmodified hubspot-api-client SDK over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicGdprDeleteInput,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.utils.signature import Signature

from connector.sandbox.fake_people import generate_people
from connector.sandbox.hubspot import HubSpotSandbox
from connector.sandbox.hubspot.seeding import employee_bucket
from connector.sandbox.runtime import Faults

TOKEN = "pat-test-token"  # the same values tests/sandbox/conftest.py starts its sandbox with
SECRET = "test-client-secret"


def _create(client: HubSpot, **props: Any) -> str:
    return client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=props)).id


def _error(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    return json.loads(exc.value.body)


# --- fake people ---------------------------------------------------------------------------------


def test_fake_people_are_deterministic_and_realistically_messy() -> None:
    people = generate_people(2000, seed=7)
    assert people == generate_people(2000, seed=7)
    assert people != generate_people(2000, seed=8)
    normalized = [p.email.strip().lower() for p in people if "@" in p.email and not p.email.endswith("@")]
    duplicates = len(normalized) - len(set(normalized))
    assert 20 <= duplicates <= 120  # about 3%
    assert any(p.email in ("n/a", "") or p.email.endswith("@") for p in people)
    assert {p.industry for p in people} >= {"COMPUTER_SOFTWARE", "HOSPITAL_HEALTH_CARE", "FINANCIAL_SERVICES"}
    assert any("Intern" in p.job_title or "Student" in p.job_title for p in people)
    assert all(0 <= p.owner_index < 5 for p in people)


# --- contacts: basic -----------------------------------------------------------------------------


def test_contact_crud_paging_and_email_lookup(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    api = hubspot_client.crm.contacts.basic_api
    created = api.create(SimplePublicObjectInputForCreate(properties={"email": " Jane.Doe@Acme.com ",
                                                                      "firstname": "Jane"}))
    assert created.properties["email"] == "jane.doe@acme.com"
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["createdate"].endswith("Z")

    by_email = api.get_by_id("JANE.DOE@acme.com", id_property="email", properties=["firstname", "jobtitle"])
    assert by_email.id == created.id and by_email.properties["jobtitle"] is None

    updated = api.update(created.id, SimplePublicObjectInput(properties={"jobtitle": "VP Marketing"}))
    assert updated.properties["jobtitle"] == "VP Marketing"
    history = api.get_by_id(created.id, properties_with_history=["jobtitle"]).properties_with_history
    assert history["jobtitle"][0].value == "VP Marketing" and history["jobtitle"][0].source_type == "INTEGRATION"

    hubspot_sandbox.seed(generate_people(25, seed=3))
    first = api.get_page(limit=10)
    second = api.get_page(limit=10, after=first.paging.next.after)
    assert len(first.results) == 10 and {r.id for r in first.results}.isdisjoint({r.id for r in second.results})

    api.archive(created.id)
    with pytest.raises(ApiException) as exc:
        api.get_by_id(created.id)
    assert exc.value.status == 404
    assert api.get_by_id(created.id, archived=True).archived is True


def test_duplicate_email_is_409_with_existing_id(hubspot_client: HubSpot) -> None:
    existing = _create(hubspot_client, email="dup@example.com")
    with pytest.raises(ApiException) as exc:
        _create(hubspot_client, email="DUP@example.com")
    assert exc.value.status == 409
    body = _error(exc)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {existing}"


def test_unknown_property_invalid_option_read_only_and_bad_email_are_400(hubspot_client: HubSpot) -> None:
    api = hubspot_client.crm.contacts.basic_api
    with pytest.raises(ApiException) as exc:
        _create(hubspot_client, email="a@example.com", favourite_colour="blue", industry="SOFTWARE")
    body = _error(exc)
    assert exc.value.status == 400 and body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert {e["code"] for e in body["errors"]} == {"PROPERTY_DOESNT_EXIST", "INVALID_OPTION"}
    assert body["message"].startswith("Property values were not valid: [")
    assert {e["context"]["propertyName"][0] for e in body["errors"]} == {"favourite_colour", "industry"}

    contact_id = _create(hubspot_client, email="b@example.com")
    with pytest.raises(ApiException) as exc:
        api.update(contact_id, SimplePublicObjectInput(properties={"hs_email_open": "9"}))
    assert _error(exc)["errors"][0]["code"] == "READ_ONLY_VALUE"
    with pytest.raises(ApiException) as exc:
        _create(hubspot_client, email="jane.doe@")
    assert _error(exc)["errors"][0]["code"] == "INVALID_EMAIL"
    with pytest.raises(ApiException) as exc:
        _create(hubspot_client, email="c@example.com", numemployees="250")
    assert _error(exc)["errors"][0]["code"] == "INVALID_OPTION"
    assert employee_bucket(250) == "100-500"


def test_lifecycle_stage_only_moves_forward_unless_cleared(hubspot_client: HubSpot) -> None:
    api = hubspot_client.crm.contacts.basic_api
    contact_id = _create(hubspot_client, email="life@example.com", lifecyclestage="customer")
    back = api.update(contact_id, SimplePublicObjectInput(properties={"lifecyclestage": "lead"}))
    assert back.properties["lifecyclestage"] == "customer"  # accepted but kept, as HubSpot does
    api.update(contact_id, SimplePublicObjectInput(properties={"lifecyclestage": ""}))
    again = api.update(contact_id, SimplePublicObjectInput(properties={"lifecyclestage": "lead"}))
    assert again.properties["lifecyclestage"] == "lead"
    forward = api.update(contact_id, SimplePublicObjectInput(properties={"lifecyclestage": "opportunity"}))
    assert forward.properties["lifecyclestage"] == "opportunity"


def test_lifecycle_backwards_can_be_made_an_error() -> None:
    with HubSpotSandbox(access_token=TOKEN, lifecycle_backwards="error") as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        contact_id = _create(client, email="life@example.com", lifecyclestage="customer")
        with pytest.raises(ApiException) as exc:
            client.crm.contacts.basic_api.update(contact_id,
                                                 SimplePublicObjectInput(properties={"lifecyclestage": "lead"}))
        assert _error(exc)["errors"][0]["code"] == "INVALID_LIFECYCLE_STAGE"


def test_bad_token_is_401(hubspot_sandbox: HubSpotSandbox) -> None:
    client = HubSpot(access_token="wrong", host=hubspot_sandbox.url)
    with pytest.raises(ApiException) as exc:
        client.crm.contacts.basic_api.get_page()
    assert exc.value.status == 401 and _error(exc)["category"] == "INVALID_AUTHENTICATION"


# --- contacts: batch -----------------------------------------------------------------------------


def test_batch_create_read_update_upsert_archive(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    batch = hubspot_client.crm.contacts.batch_api
    created = batch.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": f"b{i}@example.com", "firstname": f"B{i}"})
        for i in range(3)]))
    ids = sorted(r.id for r in created.results)
    assert len(ids) == 3 and created.status == "COMPLETE"

    read = batch.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id="b0@example.com"), SimplePublicObjectId(id="nobody@example.com")],
        id_property="email", properties=["firstname"], properties_with_history=[]))
    assert [r.properties["firstname"] for r in read.results] == ["B0"]
    assert read.errors[0].category == "OBJECT_NOT_FOUND" and read.errors[0].context == {"ids": ["nobody@example.com"]}

    # Without objectWriteTraceId one bad input refuses the whole batch and nothing is written.
    with pytest.raises(ApiException) as exc:
        batch.update(BatchInputSimplePublicObjectBatchInput(inputs=[
            SimplePublicObjectBatchInput(id=ids[0], properties={"jobtitle": "CTO"}),
            SimplePublicObjectBatchInput(id=ids[1], properties={"lifecyclestage": "prospect"})]))
    assert exc.value.status == 400 and _error(exc)["category"] == "VALIDATION_ERROR"
    assert not hubspot_sandbox.state.contacts[ids[0]].properties.get("jobtitle")

    # With trace ids each input stands alone (207) and every result and error names its trace id.
    partial = batch.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id=ids[0], properties={"jobtitle": "CTO"}, object_write_trace_id="t0"),
        SimplePublicObjectBatchInput(id=ids[1], properties={"lifecyclestage": "prospect"}, object_write_trace_id="t1"),
        SimplePublicObjectBatchInput(id="999999", properties={"jobtitle": "CTO"}, object_write_trace_id="t2"),
    ]))
    assert [r.object_write_trace_id for r in partial.results] == ["t0"] and partial.num_errors == 2
    assert {(e.category, e.context["objectWriteTraceId"][0]) for e in partial.errors} == {
        ("OBJECT_NOT_FOUND", "t2"), ("VALIDATION_ERROR", "t1")}
    assert hubspot_sandbox.state.contacts[ids[0]].properties["jobtitle"] == "CTO"

    upserted = batch.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="b1@example.com", id_property="email", properties={"jobtitle": "VP"}),
        SimplePublicObjectBatchInputUpsert(id="new@example.com", id_property="email", properties={"firstname": "N"}),
    ]))
    assert sorted((r.properties["email"], r.new) for r in upserted.results) == [
        ("b1@example.com", False), ("new@example.com", True)]

    batch.archive(BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in ids]))
    assert all(hubspot_sandbox.state.contacts[i].archived for i in ids)


def test_batch_limits_and_conflicts(hubspot_client: HubSpot) -> None:
    batch = hubspot_client.crm.contacts.batch_api
    too_many = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": f"x{i}@example.com"}) for i in range(101)])
    with pytest.raises(ApiException) as exc:
        batch.create(too_many)
    assert exc.value.status == 400 and _error(exc)["category"] == "VALIDATION_ERROR"

    existing = _create(hubspot_client, email="taken@example.com")
    with pytest.raises(ApiException) as exc:
        batch.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": "fresh@example.com"}),
            SimplePublicObjectBatchInputForCreate(properties={"email": "taken@example.com"})]))
    assert exc.value.status == 409 and existing in _error(exc)["message"]
    assert "fresh@example.com" not in hubspot_client_emails(hubspot_client)

    # With trace ids, the taken email is that input's own error and the other input is created.
    traced = batch.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": "fresh@example.com"}, object_write_trace_id="a"),
        SimplePublicObjectBatchInputForCreate(properties={"email": "taken@example.com"}, object_write_trace_id="b")]))
    assert [r.object_write_trace_id for r in traced.results] == ["a"]
    assert [(e.category, e.context["objectWriteTraceId"]) for e in traced.errors] == [("CONFLICT", ["b"])]

    with pytest.raises(ApiException) as exc:
        batch.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
            SimplePublicObjectBatchInputUpsert(id="a@example.com", id_property="email", properties={}),
            SimplePublicObjectBatchInputUpsert(id="A@example.com", id_property="email", properties={})]))
    assert exc.value.status == 400 and "Duplicate IDs" in _error(exc)["message"]


def hubspot_client_emails(client: HubSpot) -> set[str]:
    return {c.properties["email"] for c in client.crm.contacts.get_all(properties=["email"])}


def test_merge_and_gdpr_delete(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    api = hubspot_client.crm.contacts.basic_api
    primary = _create(hubspot_client, email="p@example.com", lifecyclestage="lead")
    other = _create(hubspot_client, email="o@example.com", jobtitle="CFO", lifecyclestage="customer")
    merged = api.merge(PublicMergeInput(primary_object_id=primary, object_id_to_merge=other))
    assert merged.id not in (primary, other), "HubSpot gives the merged contact a new id"
    for old in (primary, other):
        survivor = api.get_by_id(old, properties=["jobtitle", "lifecyclestage", "email", "hs_merged_object_ids"])
        assert survivor.id == merged.id and survivor.properties["jobtitle"] == "CFO"
    assert survivor.properties["lifecyclestage"] == "customer" and survivor.properties["email"] == "p@example.com"
    assert set(survivor.properties["hs_merged_object_ids"].split(";")) == {primary, other}
    assert api.get_by_id("o@example.com", id_property="email").id == merged.id
    primary = merged.id

    api.purge(PublicGdprDeleteInput(object_id="p@example.com", id_property="email"))
    with pytest.raises(ApiException) as exc:
        api.get_by_id(primary)
    assert exc.value.status == 404
    kinds = [e["subscriptionType"] for e in hubspot_sandbox.webhooks.log]
    assert "contact.merge" in kinds and "contact.privacyDeletion" in kinds


# --- search --------------------------------------------------------------------------------------


def _search(client: HubSpot, filters: list[Filter], **kwargs: Any) -> Any:
    return client.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=filters)] if filters else [], **kwargs))


def test_search_filters_sort_and_paging() -> None:
    with HubSpotSandbox(access_token=TOKEN, search_per_second=1000) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        ids = sandbox.seed(generate_people(300, seed=11))
        contacts = sandbox.state.contacts
        gmail = [i for i in ids if (contacts[i].properties.get("email") or "").endswith("@gmail.com")]
        found = _search(client, [Filter(property_name="email", operator="CONTAINS_TOKEN", value="*@gmail.com")],
                        limit=200)
        assert found.total == len(gmail) > 0

        it = _search(client, [
            Filter(property_name="industry", operator="IN", values=["COMPUTER_SOFTWARE", "BANKING"]),
            Filter(property_name="hs_object_id", operator="BETWEEN", value=ids[0], high_value=ids[99]),
        ], properties=["industry"], limit=100)
        assert it.total == sum(1 for i in ids[:100] if contacts[i].properties["industry"] in ("COMPUTER_SOFTWARE",
                                                                                                "BANKING"))
        assert _search(client, [Filter(property_name="email", operator="NOT_HAS_PROPERTY")]).total == sum(
            1 for i in ids if not contacts[i].properties.get("email"))

        seen, after = [], None
        while True:
            page = _search(client, [Filter(property_name="lifecyclestage", operator="EQ", value="LEAD")],
                           sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}], limit=120,
                           after=after)
            seen += [r.id for r in page.results]
            if page.paging is None:
                break
            after = page.paging.next.after
        assert seen == sorted(ids, key=int, reverse=True)

        for request_kwargs in ({"limit": 201}, {"after": "10000"}, {"sorts": ["lastmodifieddate"]},
                               {"sorts": [{"propertyName": "createdate", "direction": "DESC"}]},
                               {"sorts": [{"propertyName": "createdate"}, {"propertyName": "email"}]}):
            with pytest.raises(ApiException) as exc:
                _search(client, [], **request_kwargs)
            assert exc.value.status == 400


def test_search_has_its_own_five_per_second_limit(hubspot_client: HubSpot) -> None:
    statuses = []
    for _ in range(7):
        try:
            _search(hubspot_client, [])
            statuses.append(200)
        except ApiException as exc:
            statuses.append(exc.status)
            assert json.loads(exc.body)["policyName"] == "SECONDLY"
    assert statuses.count(200) == 5 and statuses.count(429) == 2


# --- rate limits and faults ----------------------------------------------------------------------


def test_ten_second_rolling_limit_answers_429_with_headers() -> None:
    with HubSpotSandbox(access_token=TOKEN, rate_limit_per_10s=3) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        info = client.crm.contacts.basic_api.get_page_with_http_info()
        headers = info[2]
        assert headers["X-HubSpot-RateLimit-Max"] == "3" and headers["X-HubSpot-RateLimit-Remaining"] == "2"
        assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert "X-HubSpot-RateLimit-Daily-Remaining" in headers
        client.crm.contacts.basic_api.get_page()
        client.crm.contacts.basic_api.get_page()
        with pytest.raises(ApiException) as exc:
            client.crm.contacts.basic_api.get_page()
        assert exc.value.status == 429
        body = _error(exc)
        assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert exc.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_faults_answer_429_503_and_502(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    api = hubspot_client.crm.contacts.basic_api
    hubspot_sandbox.faults.update({"storm_429": 1})
    with pytest.raises(ApiException) as exc:
        api.get_page()
    assert exc.value.status == 429 and _error(exc)["errorType"] == "RATE_LIMIT"
    api.get_page()
    requests.post(f"{hubspot_sandbox.url}/__sandbox/faults", json={"error_rate": 1}, timeout=5)
    with pytest.raises(ApiException) as exc:
        api.get_page()
    assert exc.value.status == 502
    hubspot_sandbox.faults.update({"error_rate": 0, "outage_s": 30})
    with pytest.raises(ApiException) as exc:
        api.get_page()
    assert exc.value.status == 503
    hubspot_sandbox.faults.update({"outage_s": 0})
    api.get_page()
    calls = requests.get(f"{hubspot_sandbox.url}/__sandbox/calls", timeout=5).json()
    assert calls["calls"]["GET /crm/v3/objects/contacts"] == 5


# --- properties, owners, tasks, lists, workflows -------------------------------------------------


def test_properties_api(hubspot_client: HubSpot) -> None:
    from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

    api = hubspot_client.crm.properties
    names = {p.name for p in api.core_api.get_all("contacts").results}
    assert {"email", "lifecyclestage", "hs_lead_status", "hubspot_owner_id", "hs_email_optout"} <= names
    stage = api.core_api.get_by_name("contacts", "lifecyclestage")
    assert [o.value for o in stage.options][:3] == ["subscriber", "lead", "marketingqualifiedlead"]
    api.groups_api.create("contacts", PropertyGroupCreate(name="nurture", label="Nurture"))
    api.core_api.create("contacts", PropertyCreate(name="nurture_score", label="Score", type="number",
                                                   field_type="number", group_name="nurture"))
    contact_id = _create(hubspot_client, email="s@example.com", nurture_score=42)
    got = hubspot_client.crm.contacts.basic_api.get_by_id(contact_id, properties=["nurture_score"])
    assert got.properties["nurture_score"] == "42"


def test_owners(hubspot_client: HubSpot) -> None:
    owners = hubspot_client.crm.owners.owners_api.get_page().results
    assert len(owners) == 5 and owners[0].email and owners[0].type == "PERSON"
    assert hubspot_client.crm.owners.owners_api.get_by_id(int(owners[1].id)).id == owners[1].id


def test_tasks_with_contact_associations(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    from hubspot.crm.associations.v4 import AssociationSpec
    from hubspot.crm.objects.tasks import ApiException as TaskApiException
    from hubspot.crm.objects.tasks import (
        AssociationSpec as TaskAssociationSpec,
    )
    from hubspot.crm.objects.tasks import (
        PublicAssociationsForObject,
        PublicObjectId,
    )
    from hubspot.crm.objects.tasks import (
        SimplePublicObjectInputForCreate as TaskCreate,
    )

    contact_id = _create(hubspot_client, email="t@example.com")
    tasks = hubspot_client.crm.objects.tasks
    with pytest.raises(TaskApiException) as exc:
        tasks.basic_api.create(TaskCreate(properties={"hs_task_subject": "Call"}))
    assert exc.value.status == 400 and "hs_timestamp" in exc.value.body
    task = tasks.basic_api.create(TaskCreate(
        properties={"hs_timestamp": "2030-01-01T09:00:00Z", "hs_task_subject": "Call Jane",
                    "hs_task_priority": "HIGH", "hubspot_owner_id": "9001"},
        associations=[PublicAssociationsForObject(to=PublicObjectId(id=contact_id), types=[
            TaskAssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=204)])]))
    fetched = tasks.basic_api.get_by_id(task.id, associations=["contacts"], properties=["hs_task_subject"])
    assert fetched.associations["contacts"].results[0].id == contact_id
    linked = hubspot_client.crm.associations.v4.basic_api.get_page("contacts", contact_id, "tasks")
    assert [str(r.to_object_id) for r in linked.results] == [task.id]

    second = tasks.basic_api.create(TaskCreate(properties={"hs_timestamp": "1893488400000",
                                                           "hs_task_subject": "Email"}))
    hubspot_client.crm.associations.v4.basic_api.create("tasks", second.id, "contacts", contact_id, [
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=204)])
    assert len(hubspot_sandbox.state.associated(("contacts", contact_id), "tasks")) == 2
    found = tasks.search_api.do_search({"filterGroups": [{"filters": [
        {"propertyName": "hs_task_subject", "operator": "CONTAINS_TOKEN", "value": "email"}]}]})
    assert [r.id for r in found.results] == [second.id]
    events = [e for e in hubspot_sandbox.webhooks.log if e["subscriptionType"] == "contact.associationChange"]
    assert len(events) == 2 and events[0]["associationType"] == "CONTACT_TO_TASK"


def test_lists_and_workflow_enrollment(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    from hubspot.crm.lists import ListCreateRequest

    ids = [_create(hubspot_client, email=f"l{i}@example.com") for i in range(3)]
    lists = hubspot_client.crm.lists
    created = lists.lists_api.create(ListCreateRequest(name="Nurture: trial", object_type_id="0-1",
                                                       processing_type="MANUAL")).list
    added = lists.memberships_api.add(created.list_id, [*ids, "424242"])
    assert sorted(added.records_ids_added) == sorted(ids) and added.record_ids_missing == ["424242"]
    lists.memberships_api.remove(created.list_id, [ids[0]])
    page = lists.memberships_api.get_page(created.list_id)
    assert sorted(r.record_id for r in page.results) == sorted(ids[1:])
    assert lists.lists_api.get_by_id(created.list_id).list.size == 2

    response = hubspot_client.api_request({"method": "POST",
                                           "path": "/automation/v2/workflows/777/enrollments/contacts/l1@example.com"})
    assert response.status_code == 204
    assert hubspot_sandbox.state.enrollments[0]["workflowId"] == 777
    assert hubspot_sandbox.state.enrollments[0]["contactId"] == ids[1]
    missing = hubspot_client.api_request({"method": "POST",
                                          "path": "/automation/v2/workflows/777/enrollments/contacts/no@example.com"})
    assert missing.status_code == 404


# --- webhooks ------------------------------------------------------------------------------------


def test_webhooks_are_batched_signed_v3_and_attributed(webhook_receiver: Any) -> None:
    with HubSpotSandbox(access_token=TOKEN, client_secret=SECRET, webhook_url=webhook_receiver.url,
                        webhook_batch_window_s=0.05) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        seeded = sandbox.seed(generate_people(3, seed=1))
        contact_id = _create(client, email="hook@example.com", firstname="Hook")
        requests.patch(f"{sandbox.url}/__sandbox/ui/contacts/{contact_id}",
                       json={"properties": {"jobtitle": "Head of IT"}}, timeout=5)
        sandbox.flush_webhooks()
        assert sandbox.deliverer is not None and sandbox.deliverer.wait_idle(5)
        events = [e for r in webhook_receiver.requests for e in json.loads(r["body"])]
        for received in webhook_receiver.requests:
            headers = received["headers"]
            assert headers["X-Hubspot-Signature-Version"] == "v3"
            assert Signature.is_valid(signature=headers["X-Hubspot-Signature-V3"], client_secret=SECRET,
                                      request_body=received["body"], http_uri=received["url"],
                                      signature_version="v3", timestamp=headers["X-Hubspot-Request-Timestamp"])
        assert not any(e["objectId"] in map(int, seeded) for e in events)  # seeding is silent
        by_kind = {(e["subscriptionType"], e.get("propertyName"), e["changeSource"]) for e in events}
        assert ("contact.creation", None, "INTEGRATION") in by_kind
        assert ("contact.propertyChange", "firstname", "INTEGRATION") in by_kind
        assert ("contact.propertyChange", "jobtitle", "CRM_UI") in by_kind
        creation = next(e for e in events if e["subscriptionType"] == "contact.creation")
        assert creation["sourceId"] == str(sandbox.app_id) and creation["portalId"] == sandbox.portal_id
        assert {"eventId", "subscriptionId", "occurredAt", "attemptNumber", "appId"} <= creation.keys()


def test_webhook_batches_hold_at_most_100_events(webhook_receiver: Any) -> None:
    with HubSpotSandbox(access_token=TOKEN, webhook_url=webhook_receiver.url, webhook_batch_window_s=5) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": f"w{i}@example.com", "firstname": "W"})
            for i in range(70)]))
        assert sandbox.flush_webhooks() == 3  # 70 creations + 140 property changes
        assert sandbox.deliverer is not None and sandbox.deliverer.wait_idle(5)
        sizes = sorted(len(json.loads(r["body"])) for r in webhook_receiver.requests)
        assert sizes == [10, 100, 100]


def test_failed_deliveries_are_retried_with_attempt_numbers(webhook_receiver: Any) -> None:
    webhook_receiver.respond = lambda n: 500 if n <= 2 else 200
    with HubSpotSandbox(access_token=TOKEN, client_secret=SECRET, webhook_url=webhook_receiver.url,
                        webhook_batch_window_s=0.01, retry_base_s=0.05) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        _create(client, email="retry@example.com")
        assert webhook_receiver.got.wait(5)
        attempts = [json.loads(r["body"])[0]["attemptNumber"] for r in webhook_receiver.requests]
        assert attempts == [0, 1, 2]
        last = webhook_receiver.requests[-1]
        assert Signature.is_valid(signature=last["headers"]["X-Hubspot-Signature-V3"], client_secret=SECRET,
                                  request_body=last["body"], http_uri=last["url"], signature_version="v3",
                                  timestamp=last["headers"]["X-Hubspot-Request-Timestamp"])


# --- persistence and control ---------------------------------------------------------------------


def test_state_file_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "hubspot.json"
    with HubSpotSandbox(access_token=TOKEN, state_file=path) as sandbox:
        ids = sandbox.seed(generate_people(5, seed=2))
    assert path.exists()
    with HubSpotSandbox(access_token=TOKEN, state_file=path) as again:
        client = HubSpot(access_token=TOKEN, host=again.url)
        assert client.crm.contacts.basic_api.get_by_id(ids[0]).id == ids[0]
        assert int(_create(client, email="after@example.com")) > max(map(int, ids))


def test_control_api_engagement_and_faults(hubspot_client: HubSpot, hubspot_sandbox: HubSpotSandbox) -> None:
    contact_id = _create(hubspot_client, email="e@example.com")
    url = hubspot_sandbox.url
    response = requests.post(f"{url}/__sandbox/engagement/contacts/{contact_id}",
                             json={"properties": {"hs_email_open": 3,
                                                  "hs_email_last_open_date": int(time.time() * 1000)}}, timeout=5)
    assert response.status_code == 200
    assert hubspot_sandbox.state.contacts[contact_id].properties["hs_email_open"] == "3"
    assert requests.post(f"{url}/__sandbox/faults", json={"bogus": 1}, timeout=5).status_code == 400
    assert requests.post(f"{url}/__sandbox/calls/reset", timeout=5).json()["total"] == 0
    summary = requests.get(f"{url}/__sandbox/summary", timeout=5).json()
    assert summary["objects"]["contacts"] == 1
    assert Faults.parse("storm_429=2").storm_429 == 2
