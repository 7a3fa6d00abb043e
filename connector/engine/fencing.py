"""Fencing: a batch writes to a CRM only while its lease stands, and a heartbeat keeps it standing.

`Fence` renews the batch's lease every `heartbeat_s` on a thread and keeps a local deadline on the
monotonic clock (the time the last successful renewal *started* plus `lease_s`). `check()` refuses once
the heartbeat saw the lease revoked, or when less than `margin_s` of the deadline is left: another
worker may take a person only after the lease lapsed in the store, so a worker that stops at its local
deadline minus a margin (clock skew between hosts, a slow statement) never writes after a takeover.
A write already in flight when the store became unreachable is bounded by the CRM clients' HTTP timeout.

`fenced(clients, fence)` wraps the CRM adapters so every write method checks the fence first: apply
and the executors need not know about leases.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Engine

from connector.engine.clients import Clients
from connector.store.leases import Lease, renew

log = logging.getLogger(__name__)

# Adapter methods that change a CRM. Everything else (read, search, describe, lengths) is a read.
WRITES = frozenset({"update", "upsert", "upsert_by_email", "create", "delete", "archive", "enroll_in_workflow",
                    "add_to_list", "create_tasks", "ensure_properties"})


class LeaseLost(Exception):
    """This batch no longer holds its people: abandon it; whoever holds them now will do the work."""


class Fence:
    def __init__(self, engine: Engine, lease: Lease, lease_s: float, heartbeat_s: float,
                 margin_s: float | None = None, renew_fn: Callable[..., bool] | None = None) -> None:
        self.engine, self.lease, self.lease_s, self.heartbeat_s = engine, lease, lease_s, heartbeat_s
        self.margin_s = heartbeat_s if margin_s is None else margin_s
        self.deadline = time.monotonic() + lease_s  # the lease was opened just now
        self.lost = False
        self.checks = 0
        self._renew = renew_fn or renew
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{lease.id}", daemon=True)

    def __enter__(self) -> Fence:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.heartbeat_s + 5)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            started = time.monotonic()
            try:
                ok = self._renew(self.engine, self.lease, self.lease_s)
            except Exception as exc:  # the store is unreachable: the deadline runs on; check() will refuse
                log.warning("lease %s heartbeat failed: %s", self.lease.id, type(exc).__name__)
                continue
            if not ok:
                self.lost = True
                log.warning("lease %s was revoked; abandoning the batch", self.lease.id)
                return
            self.deadline = started + self.lease_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self, what: str = "write") -> None:
        """Raise LeaseLost unless this batch may still write."""
        self.checks += 1
        if self.lost:
            raise LeaseLost(f"lease {self.lease.id} was revoked before {what}")
        if self.remaining() < self.margin_s:
            raise LeaseLost(f"lease {self.lease.id} has {self.remaining():.1f} s left, under the "
                            f"{self.margin_s:.0f} s margin, before {what}")


class _Guarded:
    """A CRM adapter whose write methods check the fence before each call (each call is one batch)."""

    def __init__(self, inner: Any, fence: Fence, system: str) -> None:
        self._inner, self._fence, self._system = inner, fence, system

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in WRITES and not (name == "request" and self._system == "hubspot"):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if name != "request" or str(args[1] if len(args) > 1 else kwargs.get("method", "")).upper() != "GET":
                self._fence.check(f"{self._system}.{name}")
            return attr(*args, **kwargs)

        return guarded


def fenced(clients: Clients, fence: Fence) -> Clients:
    return Clients(cast(Any, _Guarded(clients.hubspot, fence, "hubspot")),
                   cast(Any, _Guarded(clients.salesforce, fence, "salesforce")), clients.budget)
