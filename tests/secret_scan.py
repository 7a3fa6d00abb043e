"""A pytest plugin: every log record of the test run is scanned for the configured secret values.

Each record is checked as it is emitted, against the values of the environment variables that hold
secrets at that moment (the names app.yaml's *_env keys use: tokens, client secrets, passwords, the
engagement secret, the outbound path token). Records are checked raw, before any redaction filter: the
connector must not put a secret into a message in the first place (redaction is the second line).
A leak fails the session with the logger, the test and the variable's name (never the value).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator

import pytest

SECRET_NAMES = re.compile(r"(SECRET|TOKEN|PASSWORD|PRIVATE_KEY)", re.I)
MIN_LENGTH = 8  # shorter values would match by accident
LEAKS: list[str] = []
CURRENT_TEST = ["(setup)"]


def secret_values() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if SECRET_NAMES.search(name) and len(value) >= MIN_LENGTH and not value.startswith(("/", "http"))}


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    return sorted(name for name, value in secrets.items() if value in text)


class SecretScanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.scanned = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.scanned += 1
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        names = leaked(text, secret_values())
        if names:
            LEAKS.append(f"{CURRENT_TEST[0]}: logger {record.name!r} logged the value of {', '.join(names)}")


SCANNER = SecretScanner()


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(SCANNER)
    if root.level > logging.DEBUG or root.level == logging.NOTSET:
        root.setLevel(logging.DEBUG)  # scan what DEBUG would show too


@pytest.fixture(autouse=True)
def _name_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    CURRENT_TEST[0] = request.node.nodeid
    yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(SCANNER)
    if LEAKS:
        print("\nsecret scan: configured secret values reached log records:\n  " + "\n  ".join(LEAKS[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(f"secret scan: {SCANNER.scanned} log records scanned, {len(LEAKS)} leaks")
