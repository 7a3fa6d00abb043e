"""GET /metrics: Prometheus text that prometheus-client's own parser reads, with counters that move when
events arrive, store figures (queue, ledger, rejections), and an optional bearer token."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from webhook_helpers import engagement_post

EVENT = {"id": "m-1", "type": "webinar_attend", "occurred_at": "2026-11-20T15:00:00Z",
         "person": {"email": "jane@example.com", "hubspot_id": "901"}}


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all((k, labels[k]) in ls for k in labels))


def test_metrics_parse_and_move_when_events_arrive(app: Flask, client: FlaskClient) -> None:
    app.extensions["nurture_metrics"].cache_s = 0  # read the store at every scrape
    before = scrape(client)
    accepted = ("nurture_webhook_requests_total", {"source": "engagement", "outcome": "accepted"})
    assert engagement_post(client, EVENT).status_code == 200
    assert engagement_post(client, {**EVENT, "id": "m-2", "type": "email_click"}).status_code == 200
    assert engagement_post(client, EVENT, secret="wrong-secret").status_code == 401
    after = scrape(client)
    assert value(after, accepted[0], **accepted[1]) - value(before, accepted[0], **accepted[1]) == 2
    assert value(after, "nurture_webhook_rejected_total", source="engagement") - value(
        before, "nurture_webhook_rejected_total", source="engagement") == 1
    assert value(after, "nurture_engagement_facts", type="webinar_attend") == 1
    assert value(after, "nurture_engagement_facts", type="email_click") == 1
    assert value(after, "nurture_queue_depth") == 1  # contact 901, marked once
    assert value(after, "nurture_queue_oldest_age_seconds") >= 0
    assert value(after, "nurture_dead_letters_open") == 0
    assert ("nurture_api_budget_remaining", (("crm", "hubspot"),)) in after
    assert value(after, "nurture_webhook_request_seconds_count", source="engagement") >= 3


def test_metrics_token_when_configured(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NURTURE_METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200
