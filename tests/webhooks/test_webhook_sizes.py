"""Body limits sized from HubSpot's maxima; one oversized value never refuses its neighbours."""

from __future__ import annotations

from flask.testing import FlaskClient
from webhook_helpers import Store, hubspot_event, hubspot_post

from connector.settings.app_config import Web
from connector.store.models import dirty, inbox
from webhooks.limits import DEFAULT_MAX_BODY_BYTES, HUBSPOT_MAX_VALUE_CHARS, LEGITIMATE_BATCH_BYTES


def test_the_default_limit_holds_the_largest_legitimate_hubspot_batch() -> None:
    assert Web().max_body_bytes == DEFAULT_MAX_BODY_BYTES >= LEGITIMATE_BATCH_BYTES


def test_a_batch_of_100_maximal_values_is_accepted(client: FlaskClient, store: Store) -> None:
    value = "é" * HUBSPOT_MAX_VALUE_CHARS  # two bytes each in UTF-8; json.dumps escapes it to six
    events = [hubspot_event(i, object_id=2000 + i, propertyName="notes", propertyValue=value) for i in range(100)]
    response = hubspot_post(client, events)
    assert response.status_code == 200, response.json
    assert store.inbox() == 100
    assert all(r.payload["propertyValue"] == value for r in store.rows(inbox)[:3])


def test_one_oversized_value_does_not_refuse_its_neighbours(client: FlaskClient, store: Store) -> None:
    """The finding: a 10 MB value pushed a 100-event batch over 1 MiB, and 20 people's edits waited."""
    events = [hubspot_event(i, object_id=3000 + i) for i in range(100)]
    events[42] |= {"propertyName": "notes", "propertyValue": "x" * 10_000_000}
    response = hubspot_post(client, events)
    assert response.status_code == 200, response.json
    assert store.inbox() == 100 and store.count(dirty) == 100
    big = next(r for r in store.rows(inbox) if r.object_id == "3042")
    assert big.payload["propertyValue"] is None
    assert big.payload["propertyValueOmitted"]["chars"] == 10_000_000
    assert max(len(str(r.payload)) for r in store.rows(inbox)) < 2000  # nothing of the 10 MB was stored
