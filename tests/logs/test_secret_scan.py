"""The secret scan itself catches a leak (and names the variable, never the value)."""

from __future__ import annotations

import logging

import pytest
from secret_scan import LEAKS, SCANNER, leaked, secret_values


def test_the_scanner_sees_a_secret_in_a_log_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_TOKEN", "tok-0123456789abcdef")
    assert leaked("calling with tok-0123456789abcdef", secret_values()) == ["ACME_API_TOKEN"]
    before = len(LEAKS)
    record = logging.LogRecord("demo", logging.INFO, __file__, 1, "token is %s", ("tok-0123456789abcdef",), None)
    SCANNER.emit(record)
    assert len(LEAKS) == before + 1 and "ACME_API_TOKEN" in LEAKS[-1] and "tok-0123" not in LEAKS[-1]
    del LEAKS[before:]  # this leak was planted; the session must not fail for it
