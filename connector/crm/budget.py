"""A shared API budget per CRM, held in the store so every worker process spends from the same purse.

HubSpot: requests per rolling 10 seconds, estimated from this and the previous fixed window (the
sliding-window counter approximation), kept under `share` of the tier's limit. Salesforce: the daily
usage the org reports in `Sforce-Limit-Info`; above `share`, non-urgent work (backfill, poll) waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connector.crm.errors import BudgetExhausted, DailyLimitReached
from connector.store.models import counters

WINDOW_S = 10.0


class Budget:
    def __init__(self, engine: Engine, hubspot_per_10s: int, hubspot_share: float, salesforce_share: float,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self._engine = engine
        self._hubspot_allowance = max(1, int(hubspot_per_10s * hubspot_share))
        self._salesforce_share = salesforce_share
        self._clock, self._sleep = clock, sleep
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def spend(self, crm: str) -> None:
        """Take one request from the budget, waiting for the window to roll over if it is spent."""
        if crm != "hubspot":
            return
        while True:
            now = self._clock()
            window = int(now // WINDOW_S)
            used = self._increment(f"hubspot:window:{window}")
            previous = self._value(f"hubspot:window:{window - 1}")
            elapsed = (now % WINDOW_S) / WINDOW_S
            if used + previous * (1 - elapsed) <= self._hubspot_allowance:
                return
            self._increment(f"hubspot:window:{window}", -1)  # not spent after all
            self._sleep(max(0.05, (window + 1) * WINDOW_S - now))

    def pause(self, crm: str, seconds: float) -> None:
        """Stop every call to this CRM for a while (its daily cap answered), across all processes."""
        self._set(f"{crm}:paused_until", self._clock() + seconds)

    def check_paused(self, crm: str) -> None:
        until = self._value(f"{crm}:paused_until")
        if until > self._clock():
            raise DailyLimitReached(crm, f"{crm}'s daily API limit was reached; calls resume in "
                                         f"{int(until - self._clock())} s", 429, "DAILY", until - self._clock())

    def pace(self, name: str, gap_s: float) -> None:
        """Take the next turn of a shared pace (one call per `gap_s`, all processes together) and wait for it."""
        now = self._clock()
        greatest = func.max if self._engine.dialect.name == "sqlite" else func.greatest
        stmt = self._insert(counters).values(name=name, value=now + gap_s, updated_at=datetime.now(UTC))
        stmt = stmt.on_conflict_do_update(index_elements=[counters.c.name], set_={
            "value": greatest(counters.c.value + gap_s, now + gap_s), "updated_at": datetime.now(UTC)})
        with self._engine.begin() as conn:
            conn.execute(stmt)
            turn_ends = float(conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar_one())
        wait = turn_ends - gap_s - now
        if wait > 0:
            self._sleep(wait)

    def note_salesforce_usage(self, used: int, limit: int) -> None:
        self._set("salesforce:api_usage", used / limit if limit else 0.0)

    def salesforce_usage(self) -> float:
        return self._value("salesforce:api_usage")

    def check(self, crm: str, urgent: bool) -> None:
        """Raise BudgetExhausted for non-urgent Salesforce work once the daily share is used."""
        if crm == "salesforce" and not urgent and self.salesforce_usage() >= self._salesforce_share:
            raise BudgetExhausted("salesforce", f"daily API usage above {self._salesforce_share:.0%}; "
                                                "non-urgent work waits")

    def _increment(self, name: str, by: float = 1) -> float:
        now = datetime.now(UTC)
        stmt = self._insert(counters).values(name=name, value=by, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[counters.c.name],
                                          set_={"value": counters.c.value + by, "updated_at": now})
        with self._engine.begin() as conn:
            conn.execute(stmt)
            return float(conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar_one())

    def _set(self, name: str, value: float) -> None:
        now = datetime.now(UTC)
        stmt = self._insert(counters).values(name=name, value=value, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=[counters.c.name], set_={"value": value, "updated_at": now})
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def _value(self, name: str) -> float:
        with self._engine.connect() as conn:
            value = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
        return float(value or 0.0)
