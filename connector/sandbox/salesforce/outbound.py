"""Outbound messages: the SOAP notifications a workflow rule sends when a watched record changes.

Changes are gathered for a short window and sent as one message per object type, at most 100
notifications each. Every attempt renders the records afresh, because Salesforce delivers the
latest data, not the data at the time of the change. A delivery counts only when the answer carries
``<Ack>true</Ack>``; anything else is retried by the shared ``Deliverer``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import requests
from defusedxml import ElementTree

from connector.sandbox.runtime import Deliverer, FlushWindow
from connector.sandbox.salesforce.records import Store
from connector.sandbox.salesforce.state import to18

MAX_NOTIFICATIONS = 100
DEFAULT_WATCHED = ("Lead", "Contact", "Task", "CampaignMember")


def acknowledged(response: requests.Response) -> bool:
    if response.status_code != 200:
        return False
    try:
        root = ElementTree.fromstring(response.content)
    except Exception:  # any unparsable answer is simply "not acknowledged"
        return False
    return any(el.tag.rsplit("}", 1)[-1] == "Ack" and (el.text or "").strip() == "true" for el in root.iter())


def _soap_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"
    return str(value)


class Outbound:
    def __init__(self, store: Store, deliverer: Deliverer, org_id: str, instance_url: Callable[[], str],
                 url: str | None, watched: dict[str, list[str] | None], window_s: float = 0.2,
                 version: str = "59.0", session_id: str | None = None) -> None:
        self.store = store
        self.deliverer = deliverer
        self.org_id = org_id
        self.instance_url = instance_url
        self.url = url
        self.watched = watched
        self.window_s = window_s
        self.version = version
        self.session_id = session_id
        self.messages_sent = 0
        self._pending: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._seq = 0
        self._lock = threading.Lock()
        self._window = FlushWindow(window_s, self.flush)

    def on_change(self, sobject: str, record_id: str, kind: str) -> None:
        # Workflow rules do not fire on delete; the poller finds deletions through queryAll.
        if kind == "deleted" or sobject not in self.watched or not self.url:
            return
        with self._lock:
            if (sobject, record_id) not in self._pending:
                self._seq += 1
                self._pending[(sobject, record_id)] = self._id("04l", self._seq)
            self._window.arm()

    def _id(self, prefix: str, n: int) -> str:
        return to18(f"{prefix}5e{n:010d}")

    def flush(self) -> int:
        """Send whatever is gathered now; returns the number of messages handed to the deliverer."""
        with self._lock:
            pending = list(self._pending.items())
            self._pending.clear()
            self._window.disarm()
        by_type: dict[str, list[tuple[str, str]]] = {}
        for (sobject, record_id), notification_id in pending:
            by_type.setdefault(sobject, []).append((notification_id, record_id))
        sent = 0
        for sobject, items in by_type.items():
            for start in range(0, len(items), MAX_NOTIFICATIONS):
                chunk = items[start:start + MAX_NOTIFICATIONS]
                self.deliverer.submit(self.url or "", self._builder(sobject, chunk), acknowledged)
                sent += 1
        self.messages_sent += sent
        return sent

    def _builder(self, sobject: str, chunk: list[tuple[str, str]]) -> Callable[[int], tuple[dict[str, str], bytes]]:
        def build(_attempt: int) -> tuple[dict[str, str], bytes]:
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
            return headers, self.render(sobject, chunk).encode("utf-8")
        return build

    def render(self, sobject: str, chunk: list[tuple[str, str]]) -> str:
        action_id = self._id("04k", list(self.watched).index(sobject) + 1)
        base = f"{self.instance_url()}/services/Soap"
        session = (f"<SessionId>{escape(self.session_id)}</SessionId>" if self.session_id
                   else '<SessionId xsi:nil="true"/>')
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            ' <soapenv:Body>\n  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
            f"   <OrganizationId>{escape(self.org_id)}</OrganizationId>\n"
            f"   <ActionId>{action_id}</ActionId>\n   {session}\n"
            f"   <EnterpriseUrl>{escape(base)}/c/{self.version}/{self.org_id[:15]}</EnterpriseUrl>\n"
            f"   <PartnerUrl>{escape(base)}/u/{self.version}/{self.org_id[:15]}</PartnerUrl>\n"
        ]
        with self.store.state.lock:
            records = [(nid, dict(self.store.state.table(sobject).get(rid) or {"Id": rid})) for nid, rid in chunk]
        wanted = self.watched.get(sobject)
        for notification_id, record in records:
            # A record deleted before delivery goes out without data, as the documentation says.
            names = [] if record.get("IsDeleted") else sorted(
                n for n in (wanted or record) if n != "Id" and record.get(n) is not None)
            parts.append(f"   <Notification>\n    <Id>{notification_id}</Id>\n"
                         f'    <sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n'
                         f"     <sf:Id>{record['Id']}</sf:Id>\n")
            parts.extend(f"     <sf:{n}>{escape(_soap_value(record[n]))}</sf:{n}>\n" for n in names)
            parts.append("    </sObject>\n   </Notification>\n")
        parts.append("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
        return "".join(parts)

    def stop(self) -> None:
        with self._lock:
            self._window.disarm()
