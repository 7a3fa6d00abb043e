"""GET /healthz (the process answers) and GET /readyz (the store answers and its schema is current)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from connector.store import is_current
from webhooks.guards import json_response

bp = Blueprint("health", __name__)
log = logging.getLogger("webhooks")


@bp.get("/healthz")
def healthz() -> Response:
    return json_response(200, {"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    engine = current_app.extensions["nurture"].engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not is_current(engine):
            return json_response(503, {"status": "migrations pending", "fix": "run `nurture db upgrade`"})
    except SQLAlchemyError as exc:
        log.error("readyz: store unreachable: %s", type(exc).__name__)
        return json_response(503, {"status": "store unreachable", "error": type(exc).__name__})
    return json_response(200, {"status": "ready"})
