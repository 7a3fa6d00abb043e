"""Who gets a task: an owner id that means something in the CRM the task is written to.

Owner ids do not travel between CRMs: a Salesforce User id (005…) is not a HubSpot owner id (digits),
and HubSpot refuses an unknown hubspot_owner_id with INVALID_OPTION. The same salesperson is found on
the other side by email (HubSpot owners API, Salesforce User). Records the connector created are owned
by the integration user, which is nobody to alert: its ids (configured, plus the user the connector
signed in as) count as "no owner", and such leads go to the round-robin pool.
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections.abc import Iterable, Sequence

from connector.crm.hubspot import HubSpotClient
from connector.crm.hubspot_owners import hubspot_owners
from connector.crm.salesforce import SalesforceClient

log = logging.getLogger(__name__)
SF_USER_ID = re.compile(r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
HS_OWNER_ID = re.compile(r"^\d+$")
OWNERS_TTL_S = 600  # owners change rarely; one owners read per ten minutes per process


def is_salesforce_user(value: str) -> bool:
    return bool(SF_USER_ID.match(value))


class OwnerDirectory:
    """HubSpot owners and Salesforce Users by email, read lazily and cached."""

    def __init__(self, hubspot: HubSpotClient, salesforce: SalesforceClient, integration_ids: Iterable[str] = ()
                 ) -> None:
        self._hubspot, self._salesforce = hubspot, salesforce
        self._integration = {i[:15] for i in integration_ids if i}
        self._hs: dict[str, str] | None = None
        self._hs_at = 0.0
        self._sf_email: dict[str, str] = {}  # user id -> email, filled as asked

    def is_integration(self, user_id: str) -> bool:
        own = self._salesforce.signed_in_user_id
        return user_id[:15] in self._integration or (own is not None and user_id[:15] == own[:15])

    def hubspot(self) -> dict[str, str]:
        if self._hs is None or time.monotonic() - self._hs_at > OWNERS_TTL_S:
            self._hs, self._hs_at = hubspot_owners(self._hubspot), time.monotonic()
        return self._hs

    def salesforce_emails(self, user_ids: Iterable[str]) -> dict[str, str]:
        wanted = {u for u in user_ids if u and is_salesforce_user(u) and u not in self._sf_email}
        if wanted:
            found = self._salesforce.users(ids=wanted)
            self._sf_email.update({u: found.get(u, "") for u in wanted})
        return self._sf_email

    def salesforce_by_email(self, emails: Iterable[str]) -> dict[str, str]:
        """email -> active Salesforce user id."""
        return {email: uid for uid, email in self._salesforce.users(emails=set(emails) - {""}).items()}


class OwnerRouter:
    """Picks each task's owner for one target CRM; call `prepare` with every candidate first (batched reads)."""

    def __init__(self, directory: OwnerDirectory, target: str, pool: Sequence[str]) -> None:
        self._dir, self._target = directory, target
        self._configured = list(pool)
        self._pool: list[str] = []
        self._sf_by_email: dict[str, str] = {}

    def prepare(self, candidates: Iterable[str | None]) -> None:
        # The pool keeps only people the target CRM has (an inactive user or an archived owner would make
        # every task fail) and never the integration user.
        if self._target == "salesforce":
            known = self._dir.salesforce_emails(self._configured) if self._configured else {}
            self._pool = [p for p in self._configured if known.get(p) and not self._dir.is_integration(p)]
        else:
            owners = self._dir.hubspot() if self._configured else {}
            self._pool = [p for p in self._configured if p in owners]
        if self._pool != self._configured:
            log.warning("alerts.yaml round-robin pool: %d of %d ids are not active %s owners; they get no tasks",
                        len(self._configured) - len(self._pool), len(self._configured), self._target)
        values = [c for c in candidates if c]
        sf_ids = [c for c in values if is_salesforce_user(c) and not self._dir.is_integration(c)]
        if self._target == "hubspot" and sf_ids:
            self._dir.salesforce_emails(sf_ids)
        if self._target == "salesforce" and any(HS_OWNER_ID.match(c) for c in values):
            owners = self._dir.hubspot()
            emails = {owners.get(c, "") for c in values if HS_OWNER_ID.match(c)}
            self._sf_by_email = self._dir.salesforce_by_email(emails)

    def owner(self, candidates: Sequence[str | None], key: str) -> tuple[str | None, str]:
        """(owner id valid in the target CRM, where it came from)."""
        for candidate in (c for c in candidates if c):
            found = self._translate(candidate)
            if found:
                return found
        if self._pool:
            # A stable hash, as core.alerts: the same lead goes to the same person on every worker.
            return self._pool[zlib.crc32(key.encode()) % len(self._pool)], "round robin"
        return None, "none configured"

    def _translate(self, candidate: str) -> tuple[str, str] | None:
        if is_salesforce_user(candidate):
            if self._dir.is_integration(candidate):
                return None  # the integration user owns what the connector created: nobody to alert
            if self._target == "salesforce":
                return candidate, "record"
            email = self._dir.salesforce_emails([candidate]).get(candidate, "")
            match = next((oid for oid, e in self._dir.hubspot().items() if email and e == email), None)
            return (match, "owner matched by email") if match else None
        if HS_OWNER_ID.match(candidate):
            owners = self._dir.hubspot()
            if candidate not in owners:
                return None  # archived or unknown: HubSpot would refuse it
            if self._target == "hubspot":
                return candidate, "record"
            user = self._sf_by_email.get(owners[candidate]) or self._dir.salesforce_by_email(
                [owners[candidate]]).get(owners[candidate])
            return (user, "owner matched by email") if user else None
        return None
