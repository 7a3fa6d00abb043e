"""Preflight checks of the Salesforce org: sign-in, object permissions, mapped fields, External ID, ids."""

from __future__ import annotations

from collections.abc import Iterator

from connector.crm.errors import CrmError
from connector.crm.salesforce import SalesforceClient
from connector.crm.salesforce_schema import SalesforceObject, SalesforceSchema
from connector.engine.preflight import Check, failed, passed
from connector.engine.preflight_types import incompatibility, salesforce_family, type_fix, written_sides
from connector.settings import Settings
from connector.settings.mapping_config import Writeback
from connector.settings.problems import suggest

PERMISSIONS_FIX = ("give the integration user's profile or a permission set {needs} on {obj} "
                   "(Setup > Permission Sets > Object Settings)")
FIELDS_FIX = "create it (Setup > Object Manager > {obj} > Fields & Relationships) or fix mappings/contact.yaml"


def needed_access(settings: Settings) -> dict[str, set[str]]:
    """object -> the operations the connector performs on it."""
    mapping = settings.mapping
    access: dict[str, set[str]] = {obj: {"read", "edit"} for obj in mapping.salesforce.objects}
    access.setdefault(mapping.salesforce.create_as, set()).add("create")
    touches = [t for track in settings.nurture.tracks for t in track.touches]
    if settings.alerts.target == "salesforce" or any(t.task_subject for t in touches):
        access["Task"] = {"read", "create"}
    if any(t.salesforce_campaign_id for t in touches):
        access["Campaign"] = {"read"}
        access["CampaignMember"] = {"read", "create"}
    access["User"] = {"read"}
    return access


def salesforce_checks(settings: Settings, client: SalesforceClient, cheap: bool,
                      counts: dict[str, int]) -> Iterator[Check]:
    schema = SalesforceSchema(client)
    try:
        first = schema.describe(settings.mapping.salesforce.objects[0])
    except CrmError as exc:
        if exc.status in (400, 401, 403) or "sign-in" in str(exc):
            yield failed("salesforce: credentials", f"Salesforce refused the sign-in: {exc}",
                         f"check the variables of auth flow {settings.app.salesforce.auth.flow!r} and the "
                         "connected app's OAuth policies")
            return
        raise
    yield passed("salesforce: credentials", f"signed in ({settings.app.salesforce.auth.flow} flow)")
    described: dict[str, SalesforceObject | None] = {settings.mapping.salesforce.objects[0]: first}
    for obj, needs in needed_access(settings).items():
        if cheap and obj not in settings.mapping.salesforce.objects:
            continue
        found = described[obj] if obj in described else schema.describe(obj)
        described[obj] = found
        yield _object_check(obj, found, needs)
    for obj in settings.mapping.salesforce.objects:
        found = described.get(obj)
        if found is not None:
            yield from _mapped_fields(settings, obj, found)
            yield from _external_id(settings, obj, found)
            yield from _writeback(settings, obj, found)
    if cheap:
        return
    yield from _ids(settings, schema)
    counts["salesforce"] = sum(schema.count(obj) for obj in settings.mapping.salesforce.objects)
    yield passed("salesforce: records", f"{counts['salesforce']:,} "
                 f"{' and '.join(settings.mapping.salesforce.objects)} records to backfill")


def _object_check(obj: str, found: SalesforceObject | None, needs: set[str]) -> Check:
    name = f"salesforce: object {obj}"
    if found is None:
        return failed(name, f"the integration user cannot see {obj}", PERMISSIONS_FIX.format(needs="Read", obj=obj))
    have = {"read": found.queryable, "create": found.createable, "edit": found.updateable}
    missing = sorted(op for op in needs if not have[op])
    if missing:
        return failed(name, f"the integration user lacks {', '.join(missing)} on {obj}",
                      PERMISSIONS_FIX.format(needs=" and ".join(m.title() for m in missing), obj=obj))
    return passed(name, f"{', '.join(sorted(needs))} allowed")


def _mapped_fields(settings: Settings, obj: str, found: SalesforceObject) -> Iterator[Check]:
    for field in settings.mapping.fields:
        api_name = field.salesforce_name(obj)
        if api_name is None:
            continue
        name = f"salesforce: field {obj}.{api_name}"
        written = "salesforce" in written_sides(field)
        sf_field = found.fields.get(api_name)
        if sf_field is None:
            yield failed(name, f"{obj}.{api_name} (mapped field {field.name!r}) does not exist or is hidden from "
                         "the integration user", f"{suggest(api_name, found.fields)}; field-level security may hide "
                         f"it; {FIELDS_FIX.format(obj=obj)}")
            continue
        problems: list[Check] = []
        if written and not sf_field.updateable:
            problems.append(failed(name, f"{obj}.{api_name} is not editable by the integration user, but "
                                   f"{field.name!r} is written to Salesforce",
                                   "grant Edit in field-level security, or change the field's sync rule"))
        family = salesforce_family(sf_field.type)
        why = incompatibility(field, family, written)
        if why:
            problems.append(failed(name, f"{obj}.{api_name} ({sf_field.type}) cannot hold field {field.name!r}: {why}",
                                   type_fix(field, family)))
        if field.values and family in ("enum", "multi"):
            missing = sorted({v for v in field.values.values() if v not in sf_field.picklist})
            if missing:
                problems.append(failed(name, f"values map of {field.name!r} names {len(missing)} value(s) "
                                       f"{obj}.{api_name} does not have: {', '.join(missing)}",
                                       "add them to the picklist (Setup > Object Manager) or fix "
                                       "mappings/contact.yaml"))
        length = f", length {sf_field.length}" if sf_field.length else ""
        yield from problems or [passed(name, f"exists ({sf_field.type}{length}), "
                                             f"{'written' if written else 'read only'}")]


def _external_id(settings: Settings, obj: str, found: SalesforceObject) -> Iterator[Check]:
    api_name = settings.mapping.salesforce.external_id_field
    name = f"salesforce: external id {obj}.{api_name}"
    sf_field = found.fields.get(api_name)
    if sf_field is None:
        yield failed(name, f"{obj}.{api_name} does not exist; creates could not be upserts",
                     "deploy the package `nurture install` writes (or create a Text(64) field, External ID, Unique)")
    elif not (sf_field.external_id and sf_field.unique):
        yield failed(name, f"{obj}.{api_name} is not marked External ID and Unique",
                     f"edit the field in Setup > Object Manager > {obj} and tick both boxes")
    else:
        yield passed(name, "External ID, Unique")


def _writeback(settings: Settings, obj: str, found: SalesforceObject) -> Iterator[Check]:
    for output, target in settings.mapping.writeback.salesforce.items():
        api_name, values = Writeback.target(target)
        name = f"salesforce: write-back {obj}.{api_name}"
        sf_field = found.fields.get(api_name)
        if sf_field is None:
            yield failed(name, f"{obj}.{api_name} (the brain's {output}) does not exist",
                         "deploy the package `nurture install` writes, then run preflight again")
        elif not sf_field.updateable:
            yield failed(name, f"{obj}.{api_name} is not editable by the integration user",
                         "grant Edit in field-level security")
        elif values and sf_field.picklist and (missing := [v for v in values.values() if v not in sf_field.picklist]):
            yield failed(name, f"{obj}.{api_name} lacks picklist values {', '.join(missing)}",
                         "add them to the picklist or fix the write-back values map")
        else:
            yield passed(name, "exists, editable")


def _ids(settings: Settings, schema: SalesforceSchema) -> Iterator[Check]:
    touches = [t for track in settings.nurture.tracks for t in track.touches]
    campaigns = sorted({t.salesforce_campaign_id for t in touches if t.salesforce_campaign_id})
    users = list(settings.alerts.owners.round_robin_salesforce)
    for sobject, ids, where in (("Campaign", campaigns, "config/nurture.yaml"),
                                ("User", users, "owners.round_robin_salesforce in config/alerts.yaml")):
        found = schema.existing_ids(sobject, ids)
        for record_id in ids:
            if record_id in found:
                yield passed(f"salesforce: {sobject.lower()} {record_id}", "exists")
            else:
                yield failed(f"salesforce: {sobject.lower()} {record_id}", f"{sobject} {record_id} does not exist",
                             f"copy the id from the {sobject}'s page in Salesforce into {where}")
