"""Request and value sizes, derived from what the CRMs can legitimately send.

HubSpot sends at most 100 events per webhook request (shared/reference/limits.md) and a string property
holds at most 65,536 characters (https://developers.hubspot.com/docs/api/crm/properties, "Property
values"). A propertyChange event carries the new value, so a legitimate request can reach
100 × (65,536 characters × 6 bytes, a JSON escape of six characters being the widest form + ~1 KiB of envelope)
≈ 37.6 MiB: the default body limit (`web.max_body_bytes`) is 40 MiB; a 1 MiB limit refused real batches.

A value longer than HubSpot allows (a bug, or a test sandbox) is stored by reference: its length and
digest instead of the text. The worker reads the record from HubSpot anyway (level-triggered), so the
value itself is never needed from the webhook, and one such event never refuses its neighbours.
"""

from __future__ import annotations

import hashlib
from typing import Any

HUBSPOT_MAX_EVENTS = 100
HUBSPOT_MAX_VALUE_CHARS = 65_536
ENVELOPE_BYTES = 1024
LEGITIMATE_BATCH_BYTES = HUBSPOT_MAX_EVENTS * (HUBSPOT_MAX_VALUE_CHARS * 6 + ENVELOPE_BYTES)
DEFAULT_MAX_BODY_BYTES = 40 * 1024 * 1024  # above LEGITIMATE_BATCH_BYTES; checked by tests


def by_reference(item: dict[str, Any]) -> dict[str, Any]:
    """The event to store: as sent, unless its propertyValue is longer than any HubSpot value can be."""
    value = item.get("propertyValue")
    if not isinstance(value, str) or len(value) <= HUBSPOT_MAX_VALUE_CHARS:
        return item
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return {**item, "propertyValue": None,
            "propertyValueOmitted": {"chars": len(value), "sha256": digest,
                                     "why": f"longer than HubSpot's {HUBSPOT_MAX_VALUE_CHARS} characters; "
                                            "the worker reads the record itself"}}
