"""`nurture worker|poll|backfill|dlq|duplicates|audit`: the sync engine from the command line."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import click
from sqlalchemy import Engine, select, update

from connector.commands.common import EXIT_FAILURE, fail, open_store, settings_from
from connector.settings import Settings


def _engine_and_clients(ctx: click.Context) -> tuple[Settings, Engine, Any]:
    from connector.engine.clients import build_clients
    from connector.settings import MissingSecret

    settings = settings_from(ctx)
    engine = open_store(settings)
    try:
        clients = build_clients(settings, engine)
    except (MissingSecret, ValueError) as exc:
        fail(str(exc), 3)
    return settings, engine, clients


def _print_plan(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    if not rows:
        click.echo("plan: nothing to write")
        return
    # Columns as wide as their longest value, two spaces apart: long field names never run together.
    table = [(r["crm"], r["object"], str(r["id"]), r["action"], str(r["field"]),
              f"{r['before']!r} -> {r['after']!r}   ({r['rule']})") for r in rows]
    header = ("CRM", "OBJECT", "RECORD", "ACTION", "FIELD", "BEFORE -> AFTER   (RULE)")
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(5)]
    for row in [header, *table]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)) + "  " + row[5])


@click.command()
@click.option("--once", is_flag=True, help="Drain the dirty marks and exit.")
@click.option("--dry-run", is_flag=True, help="Print the plan for one batch; write nothing to any CRM.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: one JSON object per planned field write.")
@click.pass_context
def worker(ctx: click.Context, once: bool, dry_run: bool, as_json: bool) -> None:
    """Claim dirty contacts, reconcile both CRMs, and apply the plan (polls on a schedule)."""
    from connector.commands.preflight_cmds import refuse_unless_ready
    from connector.engine.poller import poll as run_poll
    from connector.engine.worker import Worker

    settings, engine, clients = _engine_and_clients(ctx)
    refuse_unless_ready(settings)  # a missing write-back property would dead-letter every write
    rows: list[dict[str, Any]] = []
    work = Worker(settings, engine, clients, dry_run=dry_run, on_plan=lambda p: rows.extend(p.rows()))
    if once or dry_run:
        totals = work.drain()
        if dry_run:
            _print_plan(rows, as_json)
        click.echo(f"batches {totals.batches}, records {totals.claimed}, writes {totals.writes}, "
                   f"creates {totals.creates}, dead letters {totals.dead_letters}"
                   + "".join(f", new {kind} problems {n}" for kind, n in sorted(totals.new_problems.items())),
                   err=True)
        if totals.errors:
            fail(f"stopped on a CRM error (marks kept for retry): {totals.errors[-1]}", EXIT_FAILURE)
        return
    stop = threading.Event()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"worker {work.owner} running; Ctrl-C stops it", err=True)
    work.run_forever(stop, poll=lambda: run_poll(engine, clients, settings.mapping))


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be marked; move no cursor.")
@click.pass_context
def poll(ctx: click.Context, dry_run: bool) -> None:
    """Mark contacts changed since the stored cursors (catches missed webhooks)."""
    from connector.engine.poller import poll as run_poll

    settings, engine, clients = _engine_and_clients(ctx)
    _within_budget(clients)
    report = run_poll(engine, clients, settings.mapping, dry_run=dry_run)
    for name, count in report.marked.items():
        click.echo(f"{name}: {count} changed{' (dry run: not marked)' if dry_run else ' marked'}; "
                   f"cursor {report.cursors[name]}")


@click.command()
@click.option("--limit", type=int, help="At most N records per source.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Only records changed since (UTC).")
@click.option("--dry-run", is_flag=True, help="Walk and plan; write nothing; end with totals.")
@click.option("--detail", is_flag=True, help="With --dry-run: also the per-field table of planned writes.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: one JSON object per planned field write.")
@click.pass_context
def backfill(ctx: click.Context, limit: int | None, since: datetime | None, dry_run: bool, detail: bool,
             as_json: bool) -> None:
    """Walk every contact on both sides and reconcile them all; run again to resume after a stop."""
    from datetime import UTC

    from connector.commands.progress import WalkProgress
    from connector.crm.errors import BudgetExhausted
    from connector.engine.backfill import backfill as run_backfill

    settings, engine, clients = _engine_and_clients(ctx)
    _within_budget(clients)
    totals = _walk_estimates(settings, clients, limit)
    try:
        with WalkProgress(totals) as progress:
            report = run_backfill(settings, engine, clients, since=since.replace(tzinfo=UTC) if since else None,
                                  limit=limit, dry_run=dry_run, progress=progress,
                                  spool_dir=settings.root / ".nurture-backfill")
    except BudgetExhausted as exc:
        fail(f"backfill stopped before writing: {exc} — run it again after the daily reset, or raise "
             "salesforce.daily_api_share", EXIT_FAILURE)
    click.echo(", ".join(f"{k}: {v}" for k, v in report.walked.items()), err=True)
    if dry_run:
        if detail or as_json:
            _print_plan([row for plan in report.plans for row in plan.rows()], as_json)
        if not as_json:
            _print_dry_run_totals(settings, clients, report)
        click.echo("dry run: nothing written", err=True)
        return
    click.echo(f"reconciled {report.people} people: {report.writes} writes, {report.creates} creates, "
               f"{report.dead_letters} dead letters", err=True)


def _within_budget(clients: Any) -> None:
    """poll and backfill are non-urgent work, as the worker treats them: above the Salesforce daily share
    they wait for tomorrow instead of spending what urgent syncs need."""
    from connector.crm.errors import BudgetExhausted

    try:
        clients.budget.check("salesforce", urgent=False)
    except BudgetExhausted as exc:
        fail(f"{exc} — run it again after the daily reset, or raise salesforce.daily_api_share", EXIT_FAILURE)


def _walk_estimates(settings: Settings, clients: Any, limit: int | None) -> dict[str, int]:
    """Totals for the progress bars: HubSpot's search total and a SOQL COUNT() per object (one call each)."""
    from connector.crm.errors import CrmError
    from connector.crm.hubspot_schema import HubSpotSchema
    from connector.crm.salesforce_schema import SalesforceSchema

    totals: dict[str, int] = {}
    try:
        totals["hubspot"] = HubSpotSchema(clients.hubspot).contact_total()
        for sobject in settings.mapping.salesforce.objects:
            totals[f"salesforce.{sobject}"] = SalesforceSchema(clients.salesforce).count(sobject)
    except CrmError:
        pass  # bars without a total; the walk itself will say what is wrong
    return {name: min(total, limit) if limit is not None else total for name, total in totals.items()}


def _print_dry_run_totals(settings: Settings, clients: Any, report: Any) -> None:
    from connector.crm.errors import CrmError
    from connector.crm.salesforce_schema import SalesforceSchema
    from connector.engine.backfill_summary import summarize

    summaries = [summarize(plan, settings.mapping) for plan in report.plans]
    walked_hs = report.walked.get("hubspot", 0)
    walked_sf = sum(v for k, v in report.walked.items() if k.startswith("salesforce"))
    click.echo(f"{'':<12}{'create':>8}{'link':>8}{'update':>8}   API calls (walk + writes)")
    for name, walk_calls in (("hubspot", -(-walked_hs // 200)), ("salesforce", -(-walked_sf // 2000))):
        side = [getattr(s, name) for s in summaries]
        calls = walk_calls + sum(t.calls for t in side)
        click.echo(f"{name:<12}{sum(t.create for t in side):>8}{sum(t.link for t in side):>8}"
                   f"{sum(t.update for t in side):>8}   {calls}")
    hs_daily = settings.app.hubspot.rate_limit.daily
    click.echo(f"HubSpot daily limit {hs_daily:,} (this connector may use {settings.app.hubspot.rate_limit.share:.0%})")
    try:
        limit, remaining = SalesforceSchema(clients.salesforce).daily_api()
        click.echo(f"Salesforce daily limit {limit:,}, {remaining:,} left today "
                   f"(this connector may use {settings.app.salesforce.daily_api_share:.0%})")
    except CrmError as exc:
        click.echo(f"Salesforce daily limit not read: {exc}")
    click.echo(f"duplicates expected: {sum(s.duplicates for s in summaries)}")
    unmapped = [(k, v) for s in summaries for k, v in s.unmapped.most_common()]
    if unmapped:
        click.echo("values no picklist map covers (they are not carried across):")
        for key, count in unmapped:
            click.echo(f"  {key}  ({count} record{'s' if count != 1 else ''})")
    else:
        click.echo("values no picklist map covers: none")


@click.group()
def dlq() -> None:
    """Dead letters: writes a CRM refused for good, with the CRM's message."""


@dlq.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include replayed ones.")
@click.pass_context
def dlq_list(ctx: click.Context, show_all: bool) -> None:
    """List dead letters."""
    from connector.store.models import dead_letters as dl

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    query = select(dl).order_by(dl.c.id)
    if not show_all:
        query = query.where(dl.c.resolved_at.is_(None))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for r in rows:
        fields = f" [{', '.join(sorted(r.payload))}]" if r.payload and r.operation == "update" else ""
        tries = f" (x{r.attempts})" if r.attempts and r.attempts > 1 else ""
        click.echo(f"#{r.id} {r.created_at:%Y-%m-%d %H:%M} {r.system} {r.object_type} {r.object_id or '(new)'} "
                   f"{r.operation}{fields}: {r.error_code}: {r.message}{tries}")
    click.echo(f"{len(rows)} dead letter(s)", err=True)
    _print_problems(engine, show_all, heading=True)


def _print_problems(engine: Engine, show_all: bool, heading: bool = False) -> int:
    from connector.store.problems import open_problems

    rows = open_problems(engine, include_resolved=show_all)
    if heading and rows:
        click.echo("problems (values that could not be synced):")
    for r in rows:
        who = r.email or f"contact {r.contact_id}"
        state = f" resolved {r.resolved_at:%Y-%m-%d %H:%M}" if r.resolved_at else ""
        click.echo(f"  P{r.id} {who} {r.field} [{r.kind}] seen {r.seen}x since {r.first_seen:%Y-%m-%d %H:%M}{state}: "
                   f"{r.message}")
    click.echo(f"{len(rows)} problem(s)", err=True)
    return len(rows)


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include resolved ones.")
@click.pass_context
def problems(ctx: click.Context, show_all: bool) -> None:
    """Values that could not be synced (no mapping, wrong type), per contact and field, with how to fix them.
    A problem is resolved by the next run that no longer finds it (add the mapping, then `nurture rescore`)."""
    settings = settings_from(ctx, check_env=False)
    _print_problems(open_store(settings), show_all)


@dlq.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.pass_context
def dlq_replay(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Mark the records of these dead letters (default: all open) dirty again, and close the letters."""
    from datetime import UTC

    from connector.store.inbox import DirtyMark, record
    from connector.store.models import contacts
    from connector.store.models import dead_letters as dl

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    query = select(dl).where(dl.c.resolved_at.is_(None))
    if ids:
        query = query.where(dl.c.id.in_(ids))
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        marks = []
        for r in rows:
            link = conn.execute(select(contacts).where(contacts.c.id == r.contact_id)).first() if r.contact_id else None
            if link and link.hubspot_id:
                marks.append(DirtyMark("hubspot", link.hubspot_id, "contact"))
            if link and link.salesforce_id:
                marks.append(DirtyMark("salesforce", link.salesforce_id, link.salesforce_type or "Lead"))
            if link is None and r.object_id and r.system in ("hubspot", "salesforce"):
                marks.append(DirtyMark(r.system, r.object_id, r.object_type))  # e.g. a record the worker gave up on
        record(conn, [], marks)
        conn.execute(update(dl).where(dl.c.id.in_([r.id for r in rows])).values(resolved_at=datetime.now(UTC)))
    click.echo(f"replaying {len(rows)} dead letter(s): {len(marks)} record(s) marked for the worker")


@click.command()
@click.pass_context
def duplicates(ctx: click.Context) -> None:
    """Records that may be the same person, and which one was linked."""
    from connector.store.models import audit

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    with engine.connect() as conn:
        rows = conn.execute(select(audit).where(audit.c.action == "duplicate").order_by(audit.c.id)).all()
    seen: set[tuple[str, str]] = set()
    for r in rows:
        if (r.system, r.object_id) in seen:
            continue
        seen.add((r.system, r.object_id))
        click.echo(f"{r.system} {r.object_id}: {r.message}")
    click.echo(f"{len(seen)} possible duplicate(s)", err=True)


@click.command()
@click.option("--contact", "email", required=True, help="The contact's email.")
@click.pass_context
def audit(ctx: click.Context, email: str) -> None:
    """A contact's history: every write, with before, after, rule and run."""
    from connector.store.audit_log import history

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    rows = history(engine, email)
    if not rows:
        fail(f"no history for {email}", EXIT_FAILURE)
    for r in rows:
        what = f"{r.field}: {r.before!r} -> {r.after!r}" if r.field else (r.message or "")
        click.echo(f"{r.at:%Y-%m-%d %H:%M:%S} run {r.run_id[:8]} {r.system:<10} {r.action:<9} {what}"
                   f"{'  (' + r.rule + ')' if r.rule else ''}")


COMMANDS = [worker, poll, backfill, dlq, problems, duplicates, audit]
