"""`nurture report [funnel|velocity|cohorts|tracks|sources|ab]`: the store's own history, as numbers."""

from __future__ import annotations

import click

from connector.commands.common import EXIT_USAGE, fail, open_store, settings_from

REPORTS = ("funnel", "velocity", "cohorts", "tracks", "sources", "ab")  # = report_data.REPORTS, without its imports


@click.command()
@click.argument("name", type=click.Choice(REPORTS), default="funnel", required=False)
@click.option("--since", default="90d", show_default=True, help="The period: 90d, 12w, 6m, 1y or a date.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def report(ctx: click.Context, name: str, since: str, fmt: str) -> None:
    """Funnel, velocity, cohorts, tracks, sources or A/B results, from the store's audit, ledger and state
    (definitions: docs/REPORTS.md)."""
    from connector.core.report_format import as_csv, as_json, as_table
    from connector.engine.report_data import build_report, load_history, parse_since

    try:
        start = parse_since(since)
    except ValueError as exc:
        fail(f"--since: {exc}", EXIT_USAGE)
    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    history = load_history(engine, settings, start)
    result = build_report(name, history, settings)
    click.echo({"table": as_table, "json": as_json, "csv": as_csv}[fmt](result).rstrip("\n"))


COMMANDS = [report]
