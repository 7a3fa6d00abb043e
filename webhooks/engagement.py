"""POST /webhooks/engagement: engagement facts from any other channel, signed per source (docs/WEBHOOKS.md)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from webhooks.engagement_events import parse
from webhooks.guards import Rejected, json_response, read_body, reject
from webhooks.signatures import ENGAGEMENT_HEADER, SignatureError, verify_engagement

bp = Blueprint("engagement", __name__)
SOURCE_HEADER = "X-Nurture-Source"


@bp.post("/webhooks/engagement")
def receive() -> Response:
    edge = current_app.extensions["nurture"]
    config = edge.settings.app.engagement
    try:
        body = read_body("engagement", ("application/json",))
        source = request.headers.get(SOURCE_HEADER)
        if source is None and len(edge.engagement_secrets) == 1:
            source = next(iter(edge.engagement_secrets))
        if source not in edge.engagement_secrets:
            raise SignatureError(f"unknown engagement source; send {SOURCE_HEADER} with a configured source name")
        if not edge.settings.app.web.insecure_dev_mode:  # allowed only against the sandbox (security_policy)
            verify_engagement(secrets=edge.engagement_secrets[source],
                              header=request.headers.get(ENGAGEMENT_HEADER), body=body, tolerance_s=config.tolerance_s)
        batch = parse(body, source)
    except (Rejected, SignatureError) as error:
        return reject("engagement", error)
    new = edge.store(batch.events, batch.marks, facts=batch.facts)
    return json_response(200, {"accepted": len(batch.facts), "new": new})
