"""`GET /metrics` in Prometheus text format, and the hook that counts webhook requests as they are answered.

With a multiprocess directory the live figures of every process (gunicorn workers, the sync worker) are
summed; the store's figures are added by StoreCollector. If NURTURE_METRICS_TOKEN is set, scrapers must
send it as a bearer token.
"""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import Engine

from connector.metrics import ENV, init
from connector.settings import Settings

bp = Blueprint("metrics", __name__)
TOKEN_ENV = "NURTURE_METRICS_TOKEN"


def install(app: Flask, settings: Settings, engine: Engine) -> None:
    from connector.metrics.store_gauges import StoreCollector

    init(settings.store_url)
    app.extensions["nurture_metrics"] = StoreCollector(engine, settings)
    app.register_blueprint(bp)
    app.before_request(_start_clock)
    app.after_request(_count_webhook)


@bp.get("/metrics")
def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, values
    from prometheus_client.multiprocess import MultiProcessCollector

    token = os.environ.get(TOKEN_ENV)
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    # The mode was fixed when prometheus-client was first imported in this process: files only if it was on.
    if os.environ.get(ENV) and values.ValueClass is not values.MutexValue:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    store = CollectorRegistry()
    store.register(current_app.extensions["nurture_metrics"])
    output += generate_latest(store)
    return Response(output, mimetype=CONTENT_TYPE_LATEST)


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count_webhook(response: Response) -> Response:
    path = request.path
    if path.startswith("/webhooks/"):
        from connector.metrics.live import webhook_answered

        source = path.split("/")[2]
        source = source if source in ("hubspot", "salesforce", "engagement") else "other"  # bounded labels
        started = getattr(g, "metrics_started", None)
        webhook_answered(source, response.status_code, time.perf_counter() - started if started else 0.0)
    return response
