"""POST /webhooks/salesforce[/<token>]: outbound messages, acknowledged only once they are stored.

Salesforce retries every message it does not see acknowledged, for 24 hours: answering the Ack only
after the commit makes its retries cover every failure on our side.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app

from webhooks.guards import Rejected, read_body, reject
from webhooks.salesforce_soap import ACK, parse
from webhooks.signatures import SignatureError

bp = Blueprint("salesforce", __name__)
CONTENT_TYPES = ("text/xml", "application/xml", "application/soap+xml")


@bp.post("/webhooks/salesforce", defaults={"token": None})
@bp.post("/webhooks/salesforce/<token>")
def receive(token: str | None) -> Response:
    edge = current_app.extensions["nurture"]
    try:
        body = read_body("salesforce", CONTENT_TYPES)
        expected = edge.salesforce_path_token
        if expected is not None and not hmac.compare_digest((token or "").encode(), expected.encode()):
            raise SignatureError("the path token is missing or wrong; post to /webhooks/salesforce/<token>")
        message = parse(body)
        if not edge.salesforce_org_ids:
            raise SignatureError("no accepted OrganizationId is configured (salesforce.org_ids_env)")
        if message.organization_id[:15] not in edge.salesforce_org_ids:
            raise SignatureError(f"OrganizationId {message.organization_id} is not an accepted org")
    except (Rejected, SignatureError) as error:
        return reject("salesforce", error)
    edge.store(message.events, message.marks, facts=message.facts)
    return Response(ACK, status=200, content_type="text/xml; charset=utf-8")
