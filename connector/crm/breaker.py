"""A circuit breaker per CRM: when the CRM is down, stop calling it for a while instead of retrying.

Retries are for a bad second; an outage is minutes. The threshold is ten outage answers in a row: a CRM
that fails a third of its calls at random trips it about once in 60,000 calls, one that is down within
two calls' retries. Without a breaker every batch spends its full retry
budget against a CRM that answers 5xx or not at all, and records back off as if *they* had failed. After
`threshold` consecutive outage answers (5xx, timeouts, refused connections — not 429s, which carry their
own wait, and not refusals of a request) the breaker opens: calls fail at once with `CircuitOpen`, which
the worker treats like a budget pause (marks back later, no attempt counted, never a dead letter). After
`cooldown_s` one call is let through; its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from connector.crm.errors import BudgetExhausted, RetryableError

T = TypeVar("T")


class CircuitOpen(BudgetExhausted):
    """The CRM has been failing; calls wait out the cool-down instead of spending retries."""

    def __init__(self, crm: str, retry_after: float) -> None:
        super().__init__(crm, f"{crm} has been failing; calls pause for {retry_after:.0f} s (circuit open)",
                         None, "CIRCUIT_OPEN")
        self.retry_after = retry_after


def is_outage(exc: BaseException) -> bool:
    status = getattr(exc, "status", None)
    return isinstance(exc, RetryableError) and (status is None or status >= 500)


class CircuitBreaker:
    def __init__(self, crm: str, threshold: int = 10, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.crm, self.threshold, self.cooldown_s, self._clock = crm, threshold, cooldown_s, clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is out
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def guard(self, fn: Callable[[], T]) -> Callable[[], T]:
        def call() -> T:
            self._before()
            try:
                result = fn()
            except BaseException as exc:
                self._after(outage=is_outage(exc))
                raise
            self._after(outage=False)
            return result
        return call

    def _before(self) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            left = self._opened_at + self.cooldown_s - self._clock()
            if left > 0 or self._trial:
                raise CircuitOpen(self.crm, max(left, 1.0))
            self._trial = True  # half-open: this call is the trial

    def _after(self, outage: bool) -> None:
        with self._lock:
            self._trial = False
            if not outage:
                self._failures, self._opened_at = 0, None
                return
            self._failures += 1
            if self._opened_at is not None or self._failures >= self.threshold:
                self._opened_at = self._clock()
