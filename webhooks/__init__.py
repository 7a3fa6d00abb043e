"""The HTTP edge: a Flask app factory with one blueprint per webhook source, plus health and OpenAPI.

A request only verifies, parses and durably stores; it never calls a CRM (docs/WEBHOOKS.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, Response
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from connector.settings import Settings, load_settings
from connector.store import open_engine
from webhooks import engagement, health, hubspot, openapi, salesforce
from webhooks.edge import Edge
from webhooks.guards import json_response
from webhooks.security_policy import check_security

log = logging.getLogger("webhooks")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               config_path: str | Path | None = None) -> Flask:
    """Build the webhook app. Settings default to app.yaml (or $NURTURE_CONFIG); the engine to the store URL.

    The store schema is not migrated here: `nurture serve` migrates once before it forks workers,
    and tests migrate their temporary store themselves.
    """
    if settings is None:
        settings = load_settings(config_path or os.environ.get("NURTURE_CONFIG", "app.yaml"), check_env=False)
    check_security(settings)  # refuse to start with a webhook check off (docs/SECURITY.md)
    web = settings.app.web
    if web.insecure_dev_mode:
        log.warning("web.insecure_dev_mode: unsigned HubSpot and engagement webhooks are accepted (sandbox only)")
    if engine is None:
        engine = open_engine(settings.store_url, pool_size=settings.app.store.pool_size)

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=web.max_body_bytes,
        PUBLIC_BASE_URL=str(web.public_base_url).rstrip("/") if web.public_base_url else None,
    )
    if web.trusted_proxies:
        n = web.trusted_proxies
        # Only as many X-Forwarded-* hops as the admin says are ours; anything else is client-controlled.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]
    app.extensions["nurture"] = Edge.from_settings(settings, engine)
    for module in (hubspot, salesforce, engagement, health, openapi):
        app.register_blueprint(module.bp)
    from connector.metrics.endpoint import install as install_metrics  # issue 13: /metrics
    from webhooks.dashboard import install as install_dashboard  # issue 13: / and /dashboard

    install_metrics(app, settings, engine)
    install_dashboard(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _http_error(error: HTTPException) -> Response:
    return json_response(error.code or 500, {"error": (error.name or "error").lower().replace(" ", "_"),
                                             "message": error.description or ""})


def _unexpected(error: Exception) -> Response:
    # The store (or a bug) failed: the sender retries a 5xx, so nothing is lost. No details leave the server.
    log.error("webhook failed: %s: %s", type(error).__name__, error)
    return json_response(500, {"error": "internal", "message": "the event could not be stored; please retry"})
