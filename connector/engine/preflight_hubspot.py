"""Preflight checks of the HubSpot portal: token and scopes, mapped properties, write-back, ids in config."""

from __future__ import annotations

from collections.abc import Iterator

from connector.crm.errors import CrmError
from connector.crm.hubspot import TASK_KEY, HubSpotClient
from connector.crm.hubspot_schema import HubSpotProperty, HubSpotSchema
from connector.engine.preflight import Check, failed, passed
from connector.engine.preflight_types import hubspot_family, incompatibility, type_fix, written_sides
from connector.settings import Settings
from connector.settings.mapping_config import Writeback
from connector.settings.problems import suggest

PROPERTIES_FIX = "create it in HubSpot (Settings > Properties > Contact properties) or fix mappings/contact.yaml"


def required_scopes(settings: Settings) -> dict[str, str]:
    """scope -> what needs it. Scope names: https://developers.hubspot.com/docs/api/scopes"""
    scopes = {"crm.objects.contacts.read": "reading contacts", "crm.objects.contacts.write": "writing contacts",
              "crm.schemas.contacts.read": "reading contact properties"}
    touches = [t for track in settings.nurture.tracks for t in track.touches]
    if any(t.hubspot_list_id for t in touches):
        scopes |= {"crm.lists.read": "nurture list touches", "crm.lists.write": "nurture list touches"}
    if any(t.hubspot_workflow_id for t in touches):
        scopes["automation"] = "nurture workflow touches"
    if settings.alerts.owners.round_robin_hubspot:
        scopes["crm.objects.owners.read"] = "round-robin HubSpot owners"
    return scopes


def hubspot_checks(settings: Settings, client: HubSpotClient, token: str, cheap: bool,
                   counts: dict[str, int]) -> Iterator[Check]:
    schema = HubSpotSchema(client, token)
    try:
        properties = schema.properties("contacts")
    except CrmError as exc:
        if exc.status in (401, 403):
            yield failed("hubspot: credentials", f"HubSpot refused the token in "
                         f"{settings.app.hubspot.access_token_env}: {exc}",
                         "create a private app token (Settings > Integrations > Private apps) and export it")
            return
        raise
    yield passed("hubspot: credentials", "the access token is accepted")
    if not cheap:
        missing = [name for name in _writeback_names(settings) if name not in properties]
        yield from _scopes(settings, schema, install_needed=bool(missing))
    yield from _mapped_properties(settings, properties)
    yield from _writeback(settings, properties)
    if settings.alerts.target == "hubspot" or settings.alerts.owners.round_robin_hubspot:
        yield _task_key(schema)
    if cheap:
        return
    yield from _engagement_signals(settings, properties)
    yield from _ids(settings, schema)
    counts["hubspot"] = schema.contact_total()
    yield passed("hubspot: contacts", f"{counts['hubspot']:,} contacts to backfill")


def _writeback_names(settings: Settings) -> list[str]:
    return [Writeback.target(target)[0] for target in settings.mapping.writeback.hubspot.values()]


def _task_key(schema: HubSpotSchema) -> Check:
    name = f"hubspot: task property {TASK_KEY}"
    if TASK_KEY in schema.properties("tasks"):
        return passed(name, "exists (one alert task per lead and reason)")
    return failed(name, f"task property {TASK_KEY!r} does not exist: alert tasks could not be looked up before "
                  "they are created", "run `nurture install`")


def _scopes(settings: Settings, schema: HubSpotSchema, install_needed: bool) -> Iterator[Check]:
    try:
        info = schema.token_info()
    except CrmError as exc:
        yield failed("hubspot: scopes", f"the token's scopes could not be read: {exc}",
                     "use a private app access token (its scopes are readable); OAuth tokens are not supported here")
        return
    needed = required_scopes(settings)
    if install_needed:
        needed["crm.schemas.contacts.write"] = "`nurture install` creating the write-back properties"
    for scope, purpose in needed.items():
        if scope in info.scopes:
            yield passed(f"hubspot: scope {scope}", f"granted ({purpose})")
        else:
            yield failed(f"hubspot: scope {scope}", f"the token lacks scope {scope}, needed for {purpose}",
                         f"add {scope} on the private app's Scopes tab, then copy the new token")


def _property_check(name: str, prop: str, properties: dict[str, HubSpotProperty], written: bool,
                    purpose: str) -> tuple[HubSpotProperty | None, list[Check]]:
    found = properties.get(prop)
    if found is None:
        return None, [failed(name, f"HubSpot property {prop!r} ({purpose}) does not exist",
                             f"{suggest(prop, properties)}; {PROPERTIES_FIX}")]
    if written and found.read_only:
        return found, [failed(name, f"HubSpot property {prop!r} is read-only, but {purpose} writes it",
                              "map a writable property, or set the field's sync so it is not written to HubSpot")]
    return found, []


def _mapped_properties(settings: Settings, properties: dict[str, HubSpotProperty]) -> Iterator[Check]:
    for field in settings.mapping.fields:
        if field.hubspot is None:
            continue
        name = f"hubspot: property {field.hubspot}"
        written = "hubspot" in written_sides(field)
        found, problems = _property_check(name, field.hubspot, properties, written, f"mapped field {field.name!r}")
        if found is not None:
            family = hubspot_family(found.type, found.field_type)
            why = incompatibility(field, family, written)
            if why:
                problems.append(failed(name, f"HubSpot property {field.hubspot!r} ({found.type}/{found.field_type}) "
                                       f"cannot hold field {field.name!r}: {why}", type_fix(field, family)))
            if field.values and family in ("enum", "multi"):
                missing = [v for v in field.values if v not in found.options]
                if missing:
                    problems.append(failed(
                        name, f"values map of {field.name!r} names {len(missing)} value(s) HubSpot's {field.hubspot!r} "
                        f"does not have: {', '.join(missing)}",
                        f"fix the keys in mappings/contact.yaml (valid: {', '.join(found.options[:15])}"
                        f"{', …' if len(found.options) > 15 else ''}) or add the options in HubSpot"))
        yield from problems or [passed(name, f"exists ({found.type if found else '?'}), "
                                             f"{'written' if written else 'read only'}")]


def _writeback(settings: Settings, properties: dict[str, HubSpotProperty]) -> Iterator[Check]:
    for output, target in settings.mapping.writeback.hubspot.items():
        prop, values = Writeback.target(target)
        name = f"hubspot: write-back {prop}"
        found, problems = _property_check(name, prop, properties, True, f"the brain's {output}")
        if found is None:
            problems = [failed(name, f"write-back property {prop!r} (the brain's {output}) does not exist",
                               "run `nurture install` (it creates the connector's properties)")]
        elif values and found.options:
            missing = [v for v in values.values() if v not in found.options]
            if missing:
                problems.append(failed(name, f"write-back values for {output} name options {prop!r} lacks: "
                                       f"{', '.join(missing)}", "add the options in HubSpot or fix the values map"))
        yield from problems or [passed(name, "exists, writable")]


def _engagement_signals(settings: Settings, properties: dict[str, HubSpotProperty]) -> Iterator[Check]:
    signals = settings.mapping.engagement
    names = {*signals.hubspot_counters, *signals.hubspot_last_dates.values(), signals.conversion_name_property}
    missing = sorted(n for n in names if n and n not in properties)
    if missing:
        yield failed("hubspot: engagement properties", f"engagement signals name properties that do not exist: "
                     f"{', '.join(missing)}", "fix `engagement:` in mappings/contact.yaml")
    else:
        yield passed("hubspot: engagement properties", f"{len(names)} engagement properties exist")


def _ids(settings: Settings, schema: HubSpotSchema) -> Iterator[Check]:
    touches = [(track.name, t) for track in settings.nurture.tracks for t in track.touches]
    for workflow_id in sorted({t.hubspot_workflow_id for _, t in touches if t.hubspot_workflow_id is not None}):
        users = ", ".join(f"{track}/{t.name}" for track, t in touches if t.hubspot_workflow_id == workflow_id)
        if schema.workflow_exists(workflow_id):
            yield passed(f"hubspot: workflow {workflow_id}", f"exists ({users})")
        else:
            yield failed(f"hubspot: workflow {workflow_id}", f"workflow {workflow_id} ({users}) does not exist",
                         "copy the id from the workflow's URL (Automation > Workflows) into config/nurture.yaml")
    for list_id in sorted({t.hubspot_list_id for _, t in touches if t.hubspot_list_id}):
        kind = schema.list_processing_type(list_id)
        if kind is None:
            yield failed(f"hubspot: list {list_id}", f"list {list_id} does not exist",
                         "create a static (MANUAL) contact list and put its id in config/nurture.yaml")
        elif kind not in ("MANUAL", "SNAPSHOT"):
            yield failed(f"hubspot: list {list_id}", f"list {list_id} is {kind}: only static lists take members "
                         "by API", "use a static (MANUAL or SNAPSHOT) list")
        else:
            yield passed(f"hubspot: list {list_id}", f"exists ({kind})")
    for owner_id in settings.alerts.owners.round_robin_hubspot:
        if schema.owner_exists(owner_id):
            yield passed(f"hubspot: owner {owner_id}", "exists")
        else:
            yield failed(f"hubspot: owner {owner_id}", f"owner {owner_id} does not exist",
                         "fix owners.round_robin_hubspot in config/alerts.yaml (GET /crm/v3/owners lists them)")
