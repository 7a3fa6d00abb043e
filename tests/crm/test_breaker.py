"""The circuit breaker: an outage stops the calls instead of burning retries, and a recovery closes it."""

from __future__ import annotations

import time

import pytest

from connector.crm.breaker import CircuitBreaker, CircuitOpen
from connector.crm.errors import FatalError, RetryableError
from connector.crm.hubspot import HubSpotClient
from connector.sandbox.hubspot.sandbox import HubSpotSandbox


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fail(exc: Exception) -> None:
    raise exc


def test_opens_after_consecutive_outages_and_closes_after_a_good_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker("hubspot", threshold=3, cooldown_s=30, clock=clock)
    down = breaker.guard(lambda: _fail(RetryableError("hubspot", "bad gateway", 502)))
    for _ in range(3):
        with pytest.raises(RetryableError):
            down()
    with pytest.raises(CircuitOpen) as exc:
        down()
    assert exc.value.retry_after == pytest.approx(30)
    clock.now = 31
    with pytest.raises(RetryableError):  # the half-open trial reaches the CRM, fails: open again
        down()
    with pytest.raises(CircuitOpen):
        breaker.guard(lambda: "ok")()
    clock.now = 62
    assert breaker.guard(lambda: "ok")() == "ok" and not breaker.is_open


def test_refusals_and_rate_limits_never_open_it() -> None:
    breaker = CircuitBreaker("hubspot", threshold=2, clock=Clock())
    for exc in (FatalError("hubspot", "bad request", 400), RetryableError("hubspot", "slow down", 429)) * 3:
        with pytest.raises(type(exc)):
            breaker.guard(lambda e=exc: _fail(e))()
    assert not breaker.is_open


def test_an_outage_stops_calls_reaching_the_crm() -> None:
    with HubSpotSandbox(access_token="t") as sandbox:
        client = HubSpotClient(sandbox.url, "t", timeout_s=(1.0, 2.0), max_wait_s=0.01)
        sandbox.faults.update({"outage_s": 60})
        for _ in range(2):  # six attempts each: the tenth outage answer opens it
            with pytest.raises((RetryableError, CircuitOpen)):
                client.read(["1"], ["email"])
        reached = sandbox.calls.total()
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(CircuitOpen):
                client.read(["1"], ["email"])
        assert sandbox.calls.total() == reached, "no call reaches a CRM that is down"
        assert time.monotonic() - started < 1.0
        assert reached <= 10
