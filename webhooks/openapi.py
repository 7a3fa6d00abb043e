"""The OpenAPI 3.1 document served at GET /openapi.json; the engagement schema is the integrators' contract."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response

from webhooks.engagement_events import KNOWN_TYPES, MAX_EVENTS
from webhooks.guards import json_response

bp = Blueprint("openapi", __name__)

PERSON = {
    "type": "object",
    "description": "Who engaged. At least one identifier; the CRM ids win over the email when both are known.",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "hubspot_id": {"type": "string", "pattern": "^[0-9]{1,20}$", "description": "HubSpot contact id."},
        "salesforce_id": {"type": "string", "pattern": "^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$",
                          "description": "Salesforce Lead (00Q…) or Contact (003…) id."},
    },
}

EVENT = {
    "type": "object",
    "required": ["id", "type", "occurred_at", "person"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,100}$",
               "description": "Unique per source and stable across retries: a resend with the same id is stored once."},
        "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$", "examples": list(KNOWN_TYPES),
                 "description": "Canonical event type, as config/scoring.yaml names it."},
        "occurred_at": {"type": "string", "format": "date-time",
                        "description": "RFC 3339 with a time zone, e.g. 2026-11-20T14:03:11Z."},
        "person": {"$ref": "#/components/schemas/Person"},
        "content_id": {"type": "string", "minLength": 1, "maxLength": 200,
                       "description": "Which asset, webinar or page: feeds the content-interaction count."},
        "properties": {"type": "object",
                       "description": "Anything else (url, campaign, answer…); scoring rules may test it."},
    },
}

BATCH = {
    "type": "object",
    "required": ["events"],
    "additionalProperties": False,
    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": MAX_EVENTS,
                              "items": {"$ref": "#/components/schemas/EngagementEvent"}}},
}

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Malformed body; `message` says what is wrong.", 401: "Signature or sender not accepted.",
            413: "Body larger than web.max_body_bytes.", 415: "Wrong Content-Type."}
    return {str(code): {"description": text[code], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code in codes}


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Nurture Connector webhooks", "version": "1",
                 "description": "Receivers for HubSpot, Salesforce outbound messages and engagement from any "
                                "channel. Every accepted event is stored before the answer; redeliveries are "
                                "acknowledged and stored once. See docs/WEBHOOKS.md."},
        "paths": {
            "/webhooks/engagement": {"post": {
                "summary": "Record engagement facts (one event, or a batch of up to 100)",
                "parameters": [
                    {"name": "X-Nurture-Signature", "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' with the source's "
                                    "secret>. Several v1= entries are allowed during secret rotation."},
                    {"name": "X-Nurture-Source", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "The source name from app.yaml engagement.sources (optional if only one)."},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/EngagementEvent"},
                    {"$ref": "#/components/schemas/EngagementBatch"}]}}}},
                "responses": {"200": {"description": "Stored (or already stored).", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"accepted": {"type": "integer"},
                                                                "new": {"type": "integer"}}}}}},
                              **_errors(400, 401, 413, 415)},
            }},
            "/webhooks/hubspot": {"post": {
                "summary": "HubSpot webhook events (JSON array, up to 100), signed v3 (v1/v2 if enabled)",
                "responses": {"200": {"description": "Stored; events of unused types acknowledged and counted."},
                              **_errors(400, 401, 413, 415)},
            }},
            "/webhooks/salesforce": {"post": {
                "summary": "Salesforce outbound message (SOAP 1.1); post to /webhooks/salesforce/{token} "
                           "when a path token is configured",
                "responses": {"200": {"description": "The SOAP notificationsResponse with Ack true.",
                                      "content": {"text/xml": {}}}, **_errors(400, 401, 413, 415)},
            }},
            "/healthz": {"get": {"summary": "The process is up", "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "The store is reachable and its migrations are current",
                                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
        },
        "components": {"schemas": {"Person": PERSON, "EngagementEvent": EVENT, "EngagementBatch": BATCH,
                                   "Error": ERROR}},
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(200, document())
