"""Webhook events: buffered per batch window, POSTed in batches of ≤ 100, signed v3, retried.

Each delivery attempt is re-signed with a fresh timestamp and carries its attemptNumber, because a
receiver must reject v3 timestamps older than five minutes and HubSpot retries for hours.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from typing import Any

import requests
from hubspot.utils.signature import Signature

from connector.sandbox.hubspot.records import Source
from connector.sandbox.runtime import Deliverer, FlushWindow

MAX_EVENTS_PER_REQUEST = 100
SUBSCRIPTION_TYPES = ("contact.creation", "contact.deletion", "contact.propertyChange", "contact.privacyDeletion",
                      "contact.merge", "contact.restore", "contact.associationChange")
CHANGE_FLAGS = {"contact.creation": "CREATED", "contact.deletion": "DELETED", "contact.privacyDeletion": "DELETED",
                "contact.merge": "MERGED", "contact.restore": "RESTORED", "contact.associationChange": "ASSOCIATED"}


def sign_v3(client_secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    """HubSpot's v3 signature, computed by the SDK's own Signature class (the one receivers verify with)."""
    return Signature.get_signature(client_secret, body, "v3", uri, method, timestamp)


class WebhookEmitter:
    def __init__(self, deliverer: Deliverer | None, url: str | None, client_secret: str, portal_id: int,
                 app_id: int, window_s: float = 0.2) -> None:
        self.deliverer = deliverer
        self.url = url
        self.client_secret = client_secret
        self.portal_id = portal_id
        self.app_id = app_id
        self.window_s = window_s
        self.subscriptions: set[str] = set(SUBSCRIPTION_TYPES)
        self.subscribed_properties: set[str] | None = None  # None = every property
        self.log: collections.deque[dict[str, Any]] = collections.deque(maxlen=50_000)  # every event emitted
        self.batches_sent = 0
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._window = FlushWindow(window_s, self.flush)
        self._ids = itertools.count(int(time.time()) % 1_000_000 * 1000 + 1)
        self._subscription_ids = {t: 100_000 + i for i, t in enumerate(SUBSCRIPTION_TYPES)}

    def emit(self, subscription_type: str, object_id: str, source: Source, **fields: Any) -> None:
        if not source.webhooks or subscription_type not in self.subscriptions:
            return
        name = fields.get("propertyName")
        if name and self.subscribed_properties is not None and name not in self.subscribed_properties:
            return
        event: dict[str, Any] = {
            "eventId": next(self._ids),
            "subscriptionId": self._subscription_ids.get(subscription_type, 99_999),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": source.change_source,
            **({"sourceId": source.source_id} if source.source_id else {}),
            **({"changeFlag": CHANGE_FLAGS[subscription_type]} if subscription_type in CHANGE_FLAGS else {}),
            **fields,
        }
        with self._lock:
            self.log.append(event)
            if not self.url or self.deliverer is None:
                return
            self._buffer.append(event)
            self._window.arm()

    def flush(self) -> int:
        """Hand every buffered event to the deliverer now; returns how many batches that made."""
        with self._lock:
            self._window.disarm()
            events, self._buffer = self._buffer, []
        if not events or not self.url or self.deliverer is None:
            return 0
        batches = [events[i: i + MAX_EVENTS_PER_REQUEST] for i in range(0, len(events), MAX_EVENTS_PER_REQUEST)]
        for batch in batches:
            self.deliverer.submit(self.url, self._builder(self.url, batch), _acknowledged)
        self.batches_sent += len(batches)
        return len(batches)

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def stop(self) -> None:
        with self._lock:
            self._window.disarm()

    def _builder(self, url: str, batch: list[dict[str, Any]]) -> Any:
        def build(attempt: int) -> tuple[dict[str, str], bytes]:
            body = json.dumps([{**event, "attemptNumber": attempt} for event in batch], separators=(",", ":"))
            timestamp = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
                "X-HubSpot-Signature-Version": "v3",
                "X-HubSpot-Signature-v3": sign_v3(self.client_secret, "POST", url, body, timestamp),
                "X-HubSpot-Request-Timestamp": timestamp,
            }
            return headers, body.encode("utf-8")

        return build


def _acknowledged(response: requests.Response) -> bool:
    return 200 <= response.status_code < 300
