"""What the blueprints share: the settings, the store engine and the secrets, resolved once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connector.settings import Settings
from connector.store.inbox import DirtyMark, EngagementFact, InboxEvent, erase_person, increment, record

log = logging.getLogger("webhooks")


@dataclass
class Edge:
    settings: Settings
    engine: Engine
    hubspot_secrets: list[str]
    salesforce_org_ids: frozenset[str]
    salesforce_path_token: str | None
    engagement_secrets: dict[str, list[str]] = field(default_factory=dict)  # source name -> secrets
    # Optional: serialize this process's writers. Measured slower on SQLite with 2 workers x 4 threads
    # (1,050 vs 1,450 single-event req/s), so off by default; kept for experiments.
    write_lock: threading.Lock | None = None

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> Edge:
        app, secrets = settings.app, settings.secrets
        # Salesforce sends 18-character org ids; admins often paste the 15-character form.
        org_ids = frozenset(o[:15] for o in secrets.get_list(app.salesforce.org_ids_env))
        return cls(
            settings=settings,
            engine=engine,
            hubspot_secrets=secrets.get_list(app.hubspot.client_secret_env),
            salesforce_org_ids=org_ids,
            salesforce_path_token=secrets.get(app.salesforce.outbound_path_token_env),
            engagement_secrets={s.name: secrets.get_list(s.secret_env) for s in app.engagement.sources},
        )

    def store(
        self,
        events: list[InboxEvent],
        marks: list[DirtyMark],
        *,
        facts: Iterable[EngagementFact] = (),
        counts: Mapping[str, float] | None = None,
        erase_hubspot_ids: Iterable[str] = (),
    ) -> int:
        """One transaction: the request is acknowledged only after this returns."""
        if self.write_lock is None:
            return self._store(events, marks, facts, counts, erase_hubspot_ids)
        with self.write_lock:
            return self._store(events, marks, facts, counts, erase_hubspot_ids)

    def _store(self, events: list[InboxEvent], marks: list[DirtyMark], facts: Iterable[EngagementFact],
               counts: Mapping[str, float] | None, erase_hubspot_ids: Iterable[str]) -> int:
        with self.engine.begin() as conn:
            new = record(conn, events, marks, facts=facts, counts=counts)
            for hubspot_id in erase_hubspot_ids:
                erase_person(conn, hubspot_id=hubspot_id)
            return new

    def count(self, counts: Mapping[str, float]) -> None:
        """Best effort: a counter must never turn a rejection into a 500."""
        try:
            with self.engine.begin() as conn:
                increment(conn, counts)
        except SQLAlchemyError as exc:
            log.error("could not update counters %s: %s", sorted(counts), type(exc).__name__)
