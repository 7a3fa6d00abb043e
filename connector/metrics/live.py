"""Counters and histograms the processes update as things happen (multiprocess-safe; see __init__)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)


@cache
def _metrics() -> dict[str, Any]:
    # Imported on first use, after connector.metrics.init() has chosen the multiprocess directory.
    from prometheus_client import Counter, Histogram

    return {
        "webhook_requests": Counter("nurture_webhook_requests", "Webhook requests answered, by source and outcome.",
                                    ["source", "outcome", "status"]),
        "webhook_seconds": Histogram("nurture_webhook_request_seconds", "Time to verify, parse and store a webhook.",
                                     ["source"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)),
        "crm_calls": Counter("nurture_crm_calls", "CRM API calls (each attempt), by CRM, operation and outcome.",
                             ["crm", "operation", "outcome"]),
        "crm_retries": Counter("nurture_crm_retries", "CRM API attempts that were retries.", ["crm", "operation"]),
        "sync_latency": Histogram("nurture_sync_latency_seconds",
                                  "From a record marked changed to its batch written, per record.",
                                  buckets=LATENCY_BUCKETS),
        "batches": Counter("nurture_worker_batches", "Worker batches, by outcome.", ["outcome"]),
        "touches": Counter("nurture_touches", "Nurture touches carried out by the worker."),
        "tasks": Counter("nurture_tasks", "Sales tasks created or confirmed by the worker."),
        "writes": Counter("nurture_field_writes", "Field writes the worker applied to the CRMs."),
    }


def _safe(update: Callable[[], object]) -> None:
    """Metrics are a view: a full disk or a removed directory must never fail a request or a CRM call."""
    try:
        update()
    except Exception as exc:
        log.warning("metrics: update failed: %s: %s", type(exc).__name__, exc)


def webhook_answered(source: str, status: int, seconds: float) -> None:
    _safe(lambda: _webhook_answered(source, status, seconds))


def _webhook_answered(source: str, status: int, seconds: float) -> None:
    m = _metrics()
    outcome = "accepted" if status < 400 else "rejected" if status < 500 else "failed"
    m["webhook_requests"].labels(source, outcome, str(status)).inc()
    m["webhook_seconds"].labels(source).observe(seconds)


def crm_attempt(crm: str, operation: str, attempt: Callable[[], T]) -> Callable[[], T]:
    """Wrap one attempt of a CRM call: count it, its outcome (ok or the error's category), and retries."""
    tries = 0

    def counted() -> T:
        nonlocal tries
        tries += 1
        if tries > 1:
            _safe(lambda: _metrics()["crm_retries"].labels(crm, operation).inc())
        try:
            result = attempt()
        except Exception as exc:
            outcome = getattr(exc, "category", None) or type(exc).__name__
            _safe(lambda: _metrics()["crm_calls"].labels(crm, operation, outcome).inc())
            raise
        _safe(lambda: _metrics()["crm_calls"].labels(crm, operation, "ok").inc())
        return result

    return counted


def batch_done(marked_at: Iterable[datetime], touches: int, tasks: int, writes: int, error: str | None) -> None:
    m = _metrics()
    now = datetime.now(UTC)
    for at in marked_at:
        m["sync_latency"].observe(max(0.0, (now - at).total_seconds()))
    m["batches"].labels("error" if error else "ok").inc()
    m["touches"].inc(touches)
    m["tasks"].inc(tasks)
    m["writes"].inc(writes)

