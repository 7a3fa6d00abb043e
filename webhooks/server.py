"""`nurture serve`: the webhook app under gunicorn, started from code.

Migrations run once in the master before any worker forks; each worker then builds its own app and
store engine (no preload), so no connection crosses a fork. gthread workers keep HTTP connections
alive and overlap a request's store commit with the next request's parsing: two processes with four
threads each suits a 2-core machine. The access log is off by default: at thousands of requests a
second it costs more than the work, and every rejection is logged by the app anyway (without secrets).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from connector.settings import Settings, load_settings
from connector.store import open_engine, upgrade

log = logging.getLogger("webhooks")
THREADS = 4


class WebServer(BaseApplication):  # type: ignore[misc]
    """gunicorn driven from code: options from our settings, the WSGI app from a factory."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.factory()


def gunicorn_options(host: str, port: int, workers: int, *, access_log: bool = False) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS,
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 10,
        "preload_app": False,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "nurture-webhooks",
        # gunicorn >= 25.1 opens a control socket at one per-user path: a second instance on the host would
        # take it over. Nothing here uses gunicornc, so there is none.
        "control_socket_disable": True,
    }


def _warn_missing_secrets(settings: Settings) -> None:
    app, secrets = settings.app, settings.secrets
    needed = []
    if app.hubspot.enabled:
        needed.append((app.hubspot.client_secret_env, "/webhooks/hubspot"))
    if app.salesforce.enabled:
        needed.append((app.salesforce.org_ids_env, "/webhooks/salesforce"))
    needed += [(source.secret_env, f"/webhooks/engagement (source {source.name!r})") for source in
               app.engagement.sources]
    for name, endpoint in needed:
        if not secrets.get(name):
            # Not fatal: the endpoint refuses everything (401) until it is set, and the rest keeps working.
            log.warning("%s is not set: %s will refuse every request until it is (export %s=…)", name, endpoint,
                        name)


def serve(config_path: str, host: str, port: int, workers: int, *, access_log: bool = False) -> None:
    settings = load_settings(config_path, check_env=False)
    logging.basicConfig(level=settings.app.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _warn_missing_secrets(settings)
    engine = open_engine(settings.store_url)
    upgrade(engine)
    engine.dispose()

    def factory() -> Any:
        from webhooks import create_app  # in the worker, after the fork

        return create_app(settings)

    log.info("serving webhooks on %s:%s with %d workers x %d threads", host, port, workers, THREADS)
    WebServer(factory, gunicorn_options(host, port, workers, access_log=access_log)).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the webhook receivers with gunicorn.")
    parser.add_argument("--config", default=os.environ.get("NURTURE_CONFIG", "app.yaml"))
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    web = load_settings(args.config, check_env=False).app.web
    serve(args.config, args.host or web.host, args.port or web.port, args.workers or web.workers,
          access_log=args.access_log)


if __name__ == "__main__":
    main()
