"""Prometheus metrics: live counters from the processes that see things happen (webhook requests, CRM
calls, worker batches), and gauges read from the store at scrape time (queue depth, dead letters, budget).

gunicorn forks several web workers and the sync worker is another process, so live metrics use
prometheus-client's multiprocess mode: each process writes its values to files in one directory
(PROMETHEUS_MULTIPROC_DIR) and `GET /metrics` sums them. `init()` chooses that directory before
prometheus-client is first imported (it reads the variable at import), which is why every import of it
in this package is inside a function.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def default_dir(store_url: str) -> Path:
    """One directory per installation: beside a SQLite store, else in the temp dir keyed by the store URL."""
    if store_url.startswith("sqlite:///") and ":memory:" not in store_url:
        return Path(store_url.removeprefix("sqlite:///") + ".metrics").resolve()
    key = hashlib.sha256(store_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"nurture-metrics-{os.getuid()}-{key}"


def init(store_url: str | None = None) -> Path | None:
    """Turn on multiprocess mode (unless already chosen). Call before the first metric is touched."""
    if os.environ.get(ENV):
        path = Path(os.environ[ENV])
    elif store_url:
        path = default_dir(store_url)
        os.environ[ENV] = str(path)
    else:
        return None
    path.mkdir(parents=True, exist_ok=True)
    return path
