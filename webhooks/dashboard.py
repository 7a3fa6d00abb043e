"""The admin dashboard: server-rendered pages over the store, behind a login, with CSRF on every form.

Pages: health, funnel and velocity, cohorts, tracks and A/B, contacts (search, one contact), activity.
Reports come from connector.engine.report_data, the same code as `nurture report`. Charts are drawn by
Chart.js served from this package (no CDN), and a strict Content-Security-Policy keeps every request on
this server. Webhook routes live in other blueprints and never see the login.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from connector.core.report_format import cell, is_percent
from webhooks import dashboard_auth as auth
from webhooks import dashboard_queries as queries

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static/dashboard", static_url_path="/static")
# Scripts only from this server (no inline script). Inline styles are allowed: the rate bars are style
# attributes and Chart.js sizes its canvas with them; a style cannot run code or send data elsewhere here.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def install(app: Flask) -> None:
    auth.install(app)
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", lambda: redirect(url_for("dashboard.health")))
    app.jinja_env.filters["cell"] = lambda value, column: cell(column, value)
    app.jinja_env.globals["is_percent"] = is_percent
    app.jinja_env.globals["csrf_token"] = generate_csrf


def _engine() -> Any:
    return current_app.extensions["nurture"].engine


def _settings() -> Any:
    return current_app.extensions["nurture"].settings


@bp.before_request
def _guard() -> Response | None:
    if auth.credential() is None or current_app.secret_key is None:
        return Response(render_template("dashboard/disabled.html"), 503)
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError) as exc:
            return Response(render_template("dashboard/error.html", message=f"Form refused: {exc}. Reload the "
                                            "page and try again."), 400)
    if request.endpoint in ("dashboard.login", "dashboard.static") or auth.logged_in():
        return None
    return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        if auth.check(request.form.get("password", "")):
            session.clear()
            session.permanent = True
            session["admin"] = True
            target = request.args.get("next") or ""
            # only a path on this site: never an open redirect
            safe = target.startswith("/dashboard") and not urlsplit(target).netloc
            return redirect(target if safe else url_for("dashboard.health"))
        time.sleep(0.5)  # slows guessing; a password hash check already costs more
        error = "Wrong password or token."
    return render_template("dashboard/login.html", error=error)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("dashboard.login"))


@bp.get("")
@bp.get("/")
def health() -> str:
    return render_template("dashboard/health.html", h=queries.health(_engine()), page="health")


@bp.post("/dead-letters/<int:letter_id>/replay")
def replay(letter_id: int) -> Response:
    from connector.engine.replay import replay_dead_letters

    count = replay_dead_letters(_engine(), [letter_id])
    flash(f"Dead letter {letter_id}: {count} record(s) marked for the worker." if count is not None
          else f"Dead letter {letter_id} is already replayed or does not exist.")
    return redirect(url_for("dashboard.health"))


def _reports(*names: str) -> dict[str, Any] | Response:
    """The period's reports from the store's snapshot (connector.engine.report_snapshots)."""
    from connector.engine import report_snapshots
    from connector.engine.report_data import parse_since

    since = request.args.get("since", "90d")
    try:
        parse_since(since)
    except ValueError as exc:
        abort(400, str(exc))
    computed_at, reports = report_snapshots.get(_engine(), _settings(), since)
    if reports is None or computed_at is None:
        return Response(render_template("dashboard/computing.html", page=request.endpoint), 200)
    age = max(0, int((datetime.now(UTC) - computed_at).total_seconds()))
    return {name: reports[name] for name in names} | {"since": since, "computed_at": computed_at, "age": age}


@bp.get("/funnel")
def funnel() -> Any:
    found = _reports("funnel", "velocity", "sources")
    if isinstance(found, Response):
        return found
    return render_template("dashboard/funnel.html", page="funnel", **found)


@bp.get("/cohorts")
def cohorts() -> Any:
    found = _reports("cohorts")
    if isinstance(found, Response):
        return found
    return render_template("dashboard/cohorts.html", page="cohorts", **found)


@bp.get("/tracks")
def tracks() -> Any:
    found = _reports("tracks", "ab")
    if isinstance(found, Response):
        return found
    rows = found["ab"].rows

    def pct(i: int) -> list[float | None]:
        return [round(r[i] * 100, 1) if r[i] is not None else None for r in rows]

    chart = {"labels": [f"{r[0]} {r[1]}" for r in rows],
             "datasets": [{"label": "conversion rate %", "data": pct(6)}, {"label": "click rate %", "data": pct(9)}]}
    return render_template("dashboard/tracks.html", page="tracks", ab_chart=chart, **found)


@bp.get("/contacts")
def contacts() -> str:
    q = request.args.get("q", "")
    ids = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()] or None
    before = request.args.get("before", type=int)
    rows = queries.search_contacts(_engine(), q, ids, before)
    return render_template("dashboard/contacts.html", page="contacts", q=q, rows=rows,
                           ids=request.args.get("ids", ""), more=len(rows) == queries.PAGE)


@bp.get("/contacts/<int:contact_id>")
def contact(contact_id: int) -> str:
    from connector.engine.offline_explain import explain_stored

    found = queries.contact(_engine(), contact_id)
    if found is None:
        abort(404, f"no contact {contact_id}")
    lines = explain_stored(_settings(), found["row"], found["events"], datetime.now(UTC))
    return render_template("dashboard/contact.html", page="contacts", c=found, explain=lines)


@bp.get("/activity")
def activity() -> str:
    args = {k: request.args.get(k) or None for k in ("action", "system", "email")}
    before = request.args.get("before", type=int)
    rows = queries.activity(_engine(), args["action"], args["system"], args["email"], before)
    return render_template("dashboard/activity.html", page="activity", rows=rows, args=args,
                           more=len(rows) == queries.PAGE)
