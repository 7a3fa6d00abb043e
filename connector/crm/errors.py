"""What a CRM's answer means for us, in one table per CRM: retry, re-authenticate, or dead-letter.

The exception type carries the decision (as Meltano's RetriableAPIError / FatalAPIError do), so
retry policy is one `retry_if_exception_type` and never a string match at the call site.
"""

from __future__ import annotations

from dataclasses import dataclass


class CrmError(Exception):
    """Base of every error a CRM adapter raises. `message` is the CRM's own words, secrets removed."""

    def __init__(self, crm: str, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(f"{crm}: {message}")
        self.crm, self.message, self.status, self.code = crm, message, status, code


class RetryableError(CrmError):
    """Rate limited, overloaded or down: try again after `retry_after` seconds (if the CRM said)."""

    def __init__(self, crm: str, message: str, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(crm, message, status, code)
        self.retry_after = retry_after


class SessionExpired(CrmError):
    """The session is no longer valid: sign in again once, then retry."""


class FatalError(CrmError):
    """The whole request was refused for a reason retrying cannot fix (bad token, bad request).
    `properties` names the fields a validation error was about, when the CRM says."""

    def __init__(self, crm: str, message: str, status: int | None = None, code: str | None = None,
                 properties: tuple[str, ...] = ()) -> None:
        super().__init__(crm, message, status, code)
        self.properties = properties


class BudgetExhausted(CrmError):
    """Our share of the CRM's API limits is spent; non-urgent work waits."""


class DailyLimitReached(BudgetExhausted):
    """The CRM's own daily cap answered (HubSpot's 429 with policyName DAILY): every call would fail
    until it resets, so the connector pauses calls to that CRM for `retry_after` seconds instead of
    retrying. Webhooks keep arriving into the inbox meanwhile."""

    def __init__(self, crm: str, message: str, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(crm, message, status, code)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RecordError:
    """One record a batch call refused: goes to the dead-letter list with the CRM's message."""

    key: str  # the record id, or the email / external id used to address it
    code: str
    message: str
    fields: tuple[str, ...] = ()

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_RECORD_CODES


# Per-record codes that are transient: retried with the dirty mark's backoff, not dead-lettered.
RETRYABLE_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE",
                                    "RATE_LIMIT", "LOCKED"})
