"""POST /webhooks/hubspot: verify the signature on the raw bytes, normalize, store, then answer 200."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from webhooks.guards import Rejected, json_response, read_body, reject
from webhooks.hubspot_events import parse
from webhooks.signatures import SignatureError, verify_hubspot

bp = Blueprint("hubspot", __name__)
SIGNATURE_HEADERS = ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature",
                     "X-HubSpot-Signature-Version")


def signed_uri() -> str:
    """The URL HubSpot called, as it signed it: the public base URL if configured, else what we were sent.

    Behind a proxy the scheme, host and prefix come from X-Forwarded-* only when web.trusted_proxies
    says how many proxies to believe (ProxyFix, applied in create_app). The path is taken raw, as sent,
    because HubSpot signs the escapes it sent, not Werkzeug's decoded path.
    """
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        query = environ.get("QUERY_STRING", "")
        raw = quote(environ.get("PATH_INFO", ""), safe="/;=,:@!$&'()*+-._~") + (f"?{query}" if query else "")
    if "://" in raw:  # an absolute-form request line: keep only the path and query
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    base = current_app.config["PUBLIC_BASE_URL"]
    if base:
        return base + raw
    return f"{request.scheme}://{request.host}{quote(environ.get('SCRIPT_NAME', ''))}{raw}"


@bp.post("/webhooks/hubspot")
def receive() -> Response:
    edge = current_app.extensions["nurture"]
    config = edge.settings.app.hubspot
    try:
        body = read_body("hubspot", ("application/json",))
        if not edge.settings.app.web.insecure_dev_mode:  # allowed only against the sandbox (security_policy)
            verify_hubspot(secrets=edge.hubspot_secrets, versions=config.signature_versions, method=request.method,
                           uri=signed_uri(), body=body,
                           headers={h: request.headers.get(h) for h in SIGNATURE_HEADERS})
        batch = parse(body, config.portal_id)
    except (Rejected, SignatureError) as error:
        return reject("hubspot", error)
    new = edge.store(batch.events, batch.marks, counts=batch.ignored, erase_hubspot_ids=batch.erase)
    return json_response(200, {"accepted": len(batch.events), "new": new, "ignored": sum(batch.ignored.values())})
