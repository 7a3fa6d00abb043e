"""Signature checks against HubSpot's published vectors and the SDK's own Signature class."""

from __future__ import annotations

import json
import time

import pytest
from hubspot.utils.signature import Signature
from webhook_helpers import REFERENCE

from webhooks.signatures import (
    SignatureError,
    hubspot_v3_uri,
    sign_engagement,
    sign_hubspot_v3,
    verify_engagement,
    verify_hubspot,
)

VECTORS = json.loads((REFERENCE / "hubspot-signature-vectors.json").read_text())
ALL = [*VECTORS["docs"], *VECTORS["sdk"]]


def _headers(vector: dict[str, str]) -> dict[str, str | None]:
    if vector["version"] == "v3":
        return {"X-HubSpot-Signature-v3": vector["expected"], "X-HubSpot-Request-Timestamp": vector["timestamp"]}
    return {"X-HubSpot-Signature": vector["expected"], "X-HubSpot-Signature-Version": vector["version"]}


@pytest.mark.parametrize("vector", ALL, ids=[f"{v['version']}-{i}" for i, v in enumerate(ALL)])
def test_official_vectors_verify(vector: dict[str, str]) -> None:
    now = int(vector["timestamp"]) / 1000 + 1 if "timestamp" in vector else None
    version = verify_hubspot(secrets=[vector["client_secret"]], versions=["v1", "v2", "v3"],
                             method=vector.get("method", "POST"), uri=vector.get("uri", ""),
                             body=vector["body"].encode(), headers=_headers(vector), now=now)
    assert version == vector["version"]


@pytest.mark.parametrize("vector", ALL, ids=[f"{v['version']}-{i}" for i, v in enumerate(ALL)])
def test_official_vectors_fail_with_a_wrong_secret_or_body(vector: dict[str, str]) -> None:
    now = int(vector["timestamp"]) / 1000 + 1 if "timestamp" in vector else None
    common = {"versions": ["v1", "v2", "v3"], "method": vector.get("method", "POST"), "uri": vector.get("uri", ""),
              "headers": _headers(vector), "now": now}
    with pytest.raises(SignatureError, match="does not match"):
        verify_hubspot(secrets=["not-the-secret"], body=vector["body"].encode(), **common)
    with pytest.raises(SignatureError, match="does not match"):
        verify_hubspot(secrets=[vector["client_secret"]], body=vector["body"].encode() + b" ", **common)


def test_v3_signed_by_the_sdk_verifies_and_rotation_accepts_either_secret() -> None:
    body = b'[{"eventId":1}]'
    ts = str(int(time.time() * 1000))
    uri = "https://hooks.example.com/webhooks/hubspot"
    sdk = Signature.get_signature("new-secret", body.decode(), "v3", uri, "POST", ts)
    headers = {"X-HubSpot-Signature-v3": sdk, "X-HubSpot-Request-Timestamp": ts}
    assert verify_hubspot(secrets=["old-secret", "new-secret"], versions=["v3"], method="POST", uri=uri, body=body,
                          headers=headers) == "v3"
    assert Signature.is_valid(sdk, "new-secret", body.decode(), uri, "POST", "v3", ts)


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "missing X-HubSpot-Signature-v3"),
    ({"X-HubSpot-Signature-v3": "abc"}, "missing X-HubSpot-Request-Timestamp"),
    ({"X-HubSpot-Signature-v3": "abc", "X-HubSpot-Request-Timestamp": "yesterday"}, "not an integer"),
    ({"X-HubSpot-Signature-v3": "abc", "X-HubSpot-Request-Timestamp": "now-301000"}, "old"),
    ({"X-HubSpot-Signature-v3": "abc", "X-HubSpot-Request-Timestamp": "now+600000"}, "future"),
    ({"X-HubSpot-Signature-v3": "\u00e9\u00e9", "X-HubSpot-Request-Timestamp": "now+0"}, "does not match"),
])
def test_each_v3_failure_has_its_own_message(headers: dict[str, str], message: str) -> None:
    # "now±ms" is resolved when the test runs, not when it is collected: a long suite must not age it
    stamp = headers.get("X-HubSpot-Request-Timestamp", "")
    if stamp.startswith("now"):
        headers = {**headers, "X-HubSpot-Request-Timestamp": str(int(time.time() * 1000) + int(stamp[3:]))}
    with pytest.raises(SignatureError, match=message) as caught:
        verify_hubspot(secrets=["s3cret-value"], versions=["v3"], method="POST", uri="https://x/y", body=b"[]",
                       headers=headers)
    assert "s3cret-value" not in str(caught.value)


def test_legacy_versions_are_refused_unless_enabled() -> None:
    body = b"[]"
    v1 = Signature.get_signature("s", body.decode(), "v1")
    headers = {"X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1"}
    with pytest.raises(SignatureError, match="missing X-HubSpot-Signature-v3"):
        verify_hubspot(secrets=["s"], versions=["v3"], method="POST", uri="https://x/y", body=body, headers=headers)
    assert verify_hubspot(secrets=["s"], versions=["v1", "v3"], method="POST", uri="https://x/y", body=body,
                          headers=headers) == "v1"


def test_no_secret_configured_refuses() -> None:
    with pytest.raises(SignatureError, match="no HubSpot client secret"):
        verify_hubspot(secrets=[], versions=["v3"], method="POST", uri="https://x/y", body=b"[]", headers={})


def test_v3_uri_decodes_exactly_hubspots_listed_escapes() -> None:
    uri = "https://x.example/hook%3Fa%3Ab%2Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl?q=%20%2B"
    assert hubspot_v3_uri(uri) == "https://x.example/hook?a:b/c@d!e$f'g(h)i*j,k;l?q=%20%2B"
    signed = sign_hubspot_v3("s", "POST", uri, b"[]")
    assert verify_hubspot(secrets=["s"], versions=["v3"], method="POST", uri=uri, body=b"[]",
                          headers=signed) == "v3"  # type: ignore[arg-type]


def test_engagement_signature_round_trip_and_failures() -> None:
    body = b'{"id":"1"}'
    header = sign_engagement("k", body)["X-Nurture-Signature"]
    verify_engagement(secrets=["old", "k"], header=header, body=body, tolerance_s=300)
    cases = [
        (None, "missing"), ("garbage", "must look like"), ("v1=00", "no t="), ("t=1", "no v1="),
        (sign_engagement("k", body, timestamp=int(time.time()) - 301)["X-Nurture-Signature"], "old"),
        (sign_engagement("k", body, timestamp=int(time.time()) + 3600)["X-Nurture-Signature"], "future"),
        (sign_engagement("wrong", body)["X-Nurture-Signature"], "does not match"),
    ]
    for bad, message in cases:
        with pytest.raises(SignatureError, match=message):
            verify_engagement(secrets=["k"], header=bad, body=body, tolerance_s=300)
