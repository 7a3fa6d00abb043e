"""Retry with tenacity: exponential backoff with jitter that honours the CRM's own wait hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from connector.crm.errors import RetryableError

T = TypeVar("T")


class _HonourRetryAfter:
    """Wait what the CRM asked (Retry-After, a rate-limit interval), else jittered exponential backoff."""

    def __init__(self, base: float, cap: float) -> None:
        self._backoff = wait_random_exponential(multiplier=base, max=cap)
        self._cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            return min(float(hinted), self._cap)
        return self._backoff(state)


def call_with_retry(fn: Callable[[], T], attempts: int = 6, base: float = 0.5, cap: float = 30.0,
                    deadline_s: float = 120.0) -> T:
    retrying = Retrying(
        retry=retry_if_exception_type(RetryableError),
        wait=_HonourRetryAfter(base, cap),
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline_s),
        reraise=True,
    )
    return retrying(fn)
