"""Webhook signatures: HubSpot v1/v2/v3 and the engagement endpoint's HMAC-SHA256.

Verify the raw bytes before anything parses them; compare in constant time; bound timestamps in both
directions; accept any of several secrets (rotation); raise one exception type, which the blueprints
turn into a 401. Each failure has its own message, and no message ever contains a secret or a digest.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from hubspot.utils.signature import Signature

HUBSPOT_TOLERANCE_S = 300  # HubSpot: "reject timestamps older than 5 minutes"
FUTURE_SKEW_S = 60  # a sender's clock may run a little ahead of ours, not more

# HubSpot's v3 rule: these percent-escapes in the request URI are decoded before signing (its docs
# list exactly these); the SDK's Signature does not do it, so the caller must.
_HUBSPOT_URI_DECODES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}


class SignatureError(Exception):
    """The request is not proven to come from the sender it claims. Always answered with 401."""


def hubspot_v3_uri(uri: str) -> str:
    for escape, char in _HUBSPOT_URI_DECODES.items():
        if escape in uri or escape.lower() in uri:
            uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def _check_timestamp(raw: str | None, *, unit_s: float, tolerance_s: float, now: float, header: str) -> None:
    if raw is None or raw == "":
        raise SignatureError(f"missing {header} header")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
        raise SignatureError(f"{header} is not an integer timestamp")
    age = now - int(raw) * unit_s
    if age > tolerance_s:
        raise SignatureError(f"{header} is {int(age)} s old; requests older than {int(tolerance_s)} s are refused")
    if age < -FUTURE_SKEW_S:
        raise SignatureError(f"{header} is {int(-age)} s in the future; check the sender's clock")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("the body is not UTF-8, so it cannot carry a valid signature") from None


def _matches(expected: Sequence[str], given: str) -> bool:
    given_bytes = given.encode("utf-8", "replace")
    # Compare against every secret without stopping early, so timing says nothing about which one matched.
    found = False
    for candidate in expected:
        found |= hmac.compare_digest(candidate.encode("ascii"), given_bytes)
    return found


def verify_hubspot(
    *,
    secrets: Sequence[str],
    versions: Sequence[str],
    method: str,
    uri: str,
    body: bytes,
    headers: dict[str, str | None],
    now: float | None = None,
) -> str:
    """Check a HubSpot webhook request; return the signature version that proved it.

    `uri` is the full URL HubSpot called (scheme, host, path, query), as seen before any proxy.
    `headers` holds X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp, X-HubSpot-Signature and
    X-HubSpot-Signature-Version (missing ones as None).
    """
    if not secrets:
        raise SignatureError("no HubSpot client secret is configured, so no request can be verified")
    now = time.time() if now is None else now
    text = _decode(body)
    v3 = headers.get("X-HubSpot-Signature-v3")
    if "v3" in versions and v3:
        _check_timestamp(headers.get("X-HubSpot-Request-Timestamp"), unit_s=0.001, tolerance_s=HUBSPOT_TOLERANCE_S,
                         now=now, header="X-HubSpot-Request-Timestamp")
        timestamp = headers["X-HubSpot-Request-Timestamp"]
        digests = [Signature.get_signature(s, text, "v3", hubspot_v3_uri(uri), method, timestamp) for s in secrets]
        if _matches(digests, v3):
            return "v3"
        raise SignatureError("X-HubSpot-Signature-v3 does not match the body, URI and timestamp")
    legacy = headers.get("X-HubSpot-Signature")
    version = (headers.get("X-HubSpot-Signature-Version") or "v1").lower()
    if legacy and version in ("v1", "v2") and version in versions:
        digests = [Signature.get_signature(s, text, version, uri, method) for s in secrets]
        if _matches(digests, legacy.lower()):
            return version
        raise SignatureError(f"X-HubSpot-Signature ({version}) does not match the body")
    if "v3" in versions:
        raise SignatureError("missing X-HubSpot-Signature-v3 header")
    raise SignatureError(f"missing X-HubSpot-Signature header (accepted versions: {', '.join(versions)})")


def sign_hubspot_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int | None = None) -> dict[str, str]:
    """Headers HubSpot would send; for tests, the sandbox and the benchmark."""
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    signature = Signature.get_signature(secret, body.decode("utf-8"), "v3", hubspot_v3_uri(uri), method, timestamp)
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}


# --- the engagement endpoint: "X-Nurture-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of 't.body'>" ---

ENGAGEMENT_HEADER = "X-Nurture-Signature"


def engagement_digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify_engagement(
    *, secrets: Sequence[str], header: str | None, body: bytes, tolerance_s: float, now: float | None = None
) -> None:
    if not secrets:
        raise SignatureError("no secret is configured for this engagement source")
    if not header:
        raise SignatureError(f"missing {ENGAGEMENT_HEADER} header")
    timestamp: str | None = None
    given: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"{ENGAGEMENT_HEADER} must look like 't=1700000000,v1=<hex>'")
        if key == "t":
            timestamp = value
        elif key == "v1":
            given.append(value.lower())
    if timestamp is None:
        raise SignatureError(f"{ENGAGEMENT_HEADER} has no t= timestamp")
    if not given:
        raise SignatureError(f"{ENGAGEMENT_HEADER} has no v1= signature")
    _check_timestamp(timestamp, unit_s=1, tolerance_s=tolerance_s, now=time.time() if now is None else now,
                     header=f"{ENGAGEMENT_HEADER} t=")
    digests = [engagement_digest(s, timestamp, body) for s in secrets]
    if not any(_matches(digests, g) for g in given):
        raise SignatureError(f"{ENGAGEMENT_HEADER} does not match the body and timestamp")


def sign_engagement(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers an engagement source sends; for tests, the sandbox and integrators' examples."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    return {ENGAGEMENT_HEADER: f"t={t},v1={engagement_digest(secret, t, body)}"}
