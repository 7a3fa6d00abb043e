"""The faults both emulators share that a client cannot tell apart from outside: a hung call (no answer at
all) and a call processed and then answered with a 5xx. Driven through the unmodified SDK and requests."""

from __future__ import annotations

import time

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.contacts.exceptions import ApiException

from connector.sandbox.hubspot.sandbox import HubSpotSandbox
from connector.sandbox.runtime import Faults

TOKEN = "fault-token"


def test_hung_call_gets_no_answer_until_the_client_gives_up() -> None:
    with HubSpotSandbox(access_token=TOKEN) as sandbox:
        sandbox.faults.update({"hang_s": 30, "hang_rate": 1})
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{sandbox.url}/crm/v3/objects/contacts", timeout=(2, 0.5),
                         headers={"Authorization": f"Bearer {TOKEN}"})
        assert time.monotonic() - started < 5
        sandbox.faults.clear()  # releases the held call at once, so stop() is quick
        answer = requests.get(f"{sandbox.url}/crm/v3/objects/contacts", timeout=5,
                              headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200


def test_processed_then_error_really_wrote() -> None:
    with HubSpotSandbox(access_token=TOKEN) as sandbox:
        client = HubSpot(access_token=TOKEN, host=sandbox.url)
        sandbox.faults.update({"after_error_rate": 1})
        with pytest.raises(ApiException) as exc:
            client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
                properties={"email": "twice@example.com"}))
        assert exc.value.status == 502
        sandbox.faults.update({"after_error_rate": 0})
        page = client.crm.contacts.basic_api.get_page(properties=["email"])
        assert [c.properties["email"] for c in page.results] == ["twice@example.com"]


def test_fault_spec_parses_the_new_keys() -> None:
    faults = Faults.parse("hang_s=60,after_error_rate=0.2,error_rate=0.1")
    assert faults.hang_s == 60 and faults.after_error_rate == 0.2 and faults.hang_rate == 0.05


def test_salesforce_processed_then_503_really_wrote() -> None:
    from simple_salesforce.exceptions import SalesforceError

    from connector.sandbox.salesforce.testing import client, start_sandbox

    sandbox = start_sandbox()
    try:
        sf = client(sandbox)
        sandbox.faults.update({"after_error_rate": 1})
        with pytest.raises(SalesforceError) as exc:
            sf.Lead.create({"LastName": "Twice", "Company": "Acme", "Email": "twice@example.com"})
        assert exc.value.status == 503
        sandbox.faults.update({"after_error_rate": 0})
        rows = sf.query("SELECT Id FROM Lead WHERE Email = 'twice@example.com'")["records"]
        assert len(rows) == 1
    finally:
        sandbox.stop()
