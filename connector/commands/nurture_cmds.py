"""`nurture setup|explain|rescore`: the brain from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from connector.commands.common import EXIT_FAILURE, fail, open_store, settings_from
from connector.commands.sync_cmds import _engine_and_clients


@click.command()
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Create the custom HubSpot properties the write-back names (safe to run again)."""
    from connector.engine.nurture_step import setup_hubspot_properties

    settings, _, clients = _engine_and_clients(ctx)
    created = setup_hubspot_properties(settings, clients)
    click.echo(f"HubSpot: created {', '.join(created)}" if created else "HubSpot: every write-back property exists")
    missing = _missing_salesforce_fields(settings, clients)
    if missing:
        fail("Salesforce: create these custom fields (Setup > Object Manager), then run setup again: "
             + ", ".join(missing), EXIT_FAILURE)
    click.echo("Salesforce: every write-back field exists")


def _missing_salesforce_fields(settings: object, clients: object) -> list[str]:
    from connector.settings.mapping_config import Writeback

    mapping = settings.mapping  # type: ignore[attr-defined]
    missing = []
    for sobject in mapping.salesforce.objects:
        names = {f["name"] for f in clients.salesforce.describe(sobject)["fields"]}  # type: ignore[attr-defined]
        wanted = [Writeback.target(t)[0] for t in mapping.writeback.salesforce.values()]
        wanted.append(mapping.salesforce.external_id_field)
        missing += [f"{sobject}.{name}" for name in wanted if name not in names]
    return missing


@click.command()
@click.argument("email")
@click.pass_context
def explain(ctx: click.Context, email: str) -> None:
    """Why a contact has its score, segments, journey stage, lifecycle, track, touches and alerts."""
    from connector.core.brain import BrainInput
    from connector.core.pair import plan_pair
    from connector.engine.gather import Person
    from connector.engine.lookup import LiveLookup
    from connector.engine.nurture_step import crm_facts, load_events, make_brain, opportunity_facts
    from connector.engine.plan import BatchPlan
    from connector.store.links import Link, find_link

    settings, engine, clients = _engine_and_clients(ctx)
    lookup = LiveLookup(settings.mapping, clients.hubspot, clients.salesforce)
    link = find_link(engine, email=email.lower())
    hubspot = salesforce = None
    if link is None:
        hubspot = lookup.hubspot_by_email([email.lower()]).get(email.lower())
        link = Link(None, hubspot.id if hubspot else None)
    else:
        hubspot = lookup.hubspot_by_id([link.hubspot_id]).get(link.hubspot_id) if link.hubspot_id else None
        if link.salesforce_id:
            sobject = link.salesforce_type or "Lead"
            salesforce = lookup.salesforce_by_id(sobject, [link.salesforce_id]).get(link.salesforce_id)
    if hubspot is None and salesforce is None:
        fail(f"{email}: no such contact in HubSpot or Salesforce", EXIT_FAILURE)
    person = Person(link, hubspot, salesforce)
    pair = plan_pair(settings.mapping, hubspot, salesforce, link.synced)
    plan = BatchPlan([person], [pair])
    events = load_events(engine, plan).get(0, [])
    brain = make_brain(settings)
    previous = {k: v for k, v in link.brain.items() if k != "counters"} or None
    facts = crm_facts(person, pair.canonical)
    if salesforce is not None:
        facts.update(opportunity_facts(clients, plan).get(str(salesforce.fields.get("AccountId") or ""), {}))
    result = brain.think(BrainInput(facts, events, previous, datetime.now(UTC), explain=True))
    click.echo(f"{email}  (HubSpot {hubspot.id if hubspot else '-'}, "
               f"Salesforce {salesforce.type + ' ' + salesforce.id if salesforce else '-'})")
    for line in result.explain():
        click.echo(line)


@click.command()
@click.pass_context
def rescore(ctx: click.Context) -> None:
    """Mark every known contact for the worker to think again (after changing the rules); writes follow
    only where a written value changes."""
    from connector.store.inbox import DirtyMark, record
    from connector.store.models import contacts

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings)
    with engine.begin() as conn:
        rows = conn.execute(select(contacts.c.hubspot_id, contacts.c.salesforce_id, contacts.c.salesforce_type)
                            .where(contacts.c.deleted_at.is_(None))).all()
        marks = [DirtyMark("hubspot", r.hubspot_id, "contact", urgent=False) if r.hubspot_id
                 else DirtyMark("salesforce", r.salesforce_id, r.salesforce_type or "Lead", urgent=False)
                 for r in rows if r.hubspot_id or r.salesforce_id]
        for start in range(0, len(marks), 500):
            record(conn, [], marks[start:start + 500])
    click.echo(f"marked {len(marks)} contacts; `nurture worker` rescores them")


COMMANDS = [setup, explain, rescore]
