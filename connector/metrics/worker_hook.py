"""What the worker reports after a batch: per-record sync latency (mark → written), touches, tasks, writes.

Called before the marks are released, so their `marked_at` can still be read: one indexed query per batch.
A metrics failure is logged and never fails the batch.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, select, tuple_

from connector.core.conditions import as_datetime
from connector.metrics import live
from connector.store.models import dirty

log = logging.getLogger(__name__)


def batch_done(engine: Engine, marks: list[Any], report: Any) -> None:
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(dirty.c.marked_at).where(
                tuple_(dirty.c.system, dirty.c.object_id).in_([(m.system, m.object_id) for m in marks]))).all()
        times = [t for r in rows if (t := as_datetime(r.marked_at)) is not None]
        live.batch_done(times, report.touches, report.tasks, report.writes, report.error)
    except Exception as exc:  # metrics are a view: never the reason a batch fails
        log.warning("metrics: could not record a batch: %s: %s", type(exc).__name__, exc)
