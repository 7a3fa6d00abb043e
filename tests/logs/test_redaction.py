"""Secrets never reach a log line: known values, bearer tokens, passwords and SOAP session ids."""

from __future__ import annotations

import json
import logging

import pytest

from connector.logs import REDACTED, JsonFormatter, Redactor


@pytest.mark.parametrize("text", [
    "calling with token s3cr3t-token-value",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
    "form password=hunter2hunter2&user=a",
    '{"client_secret": "abcdefgh12345"}',
    "<sf:SessionId>00D!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL</sf:SessionId>",
])
def test_secrets_are_redacted(text: str) -> None:
    redactor = Redactor(["s3cr3t-token-value"])
    out = redactor.redact(text)
    assert REDACTED in out
    for secret in ("s3cr3t-token-value", "eyJhbGciOiJIUzI1NiJ9", "hunter2hunter2", "abcdefgh12345", "AQ0AQH0d"):
        assert secret not in out


def test_filter_redacts_arguments_and_exceptions_in_json_lines() -> None:
    redactor = Redactor(["top-secret-value"])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s", ("top-secret-value",), None)
    try:
        raise ValueError("boom top-secret-value")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert redactor.filter(record)
    line = JsonFormatter().format(record)
    assert "top-secret-value" not in line
    assert json.loads(line)["msg"] == f"failed with {REDACTED}"
