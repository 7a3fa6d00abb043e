"""Structured logs: JSON lines when not on a terminal, readable text on one; secrets redacted everywhere.

Redaction happens in a logging.Filter on the root handler, so a secret that reaches any logger through
any message, argument or exception text is replaced before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"

# Shapes of secrets that may appear without us knowing their value: bearer tokens, session ids, passwords.
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=!-]{8,}"),
    re.compile(r"(?i)((?:access_token|refresh_token|client_secret|password|session_?id|sessionid)[\"']?\s*[:=]\s*[\"']?)"
               r"[^\s\"'&,<]{4,}"),
    re.compile(r"(?i)(<(?:\w+:)?SessionId>)[^<]+"),
]


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._values: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._values = sorted({s for s in (*self._values, *secrets) if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key.startswith("ctx_") and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k[4:]: v for k, v in vars(record).items() if k.startswith("ctx_")})
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str)


_redactor = Redactor()


def setup_logging(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = ()) -> Redactor:
    """Configure the root logger once per process; later calls add secrets and change the level."""
    _redactor.add(secrets)
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_nurture", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._nurture = True  # type: ignore[attr-defined]
        handler.addFilter(_redactor)
        root.addHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "_nurture", False):
            use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
            handler.setFormatter(JsonFormatter() if use_json else logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    return _redactor


def redactor() -> Redactor:
    return _redactor
