"""`nurture install` / `uninstall`: create what is missing and safe to create; remove only what we made.

HubSpot: the "nurture" property group and the write-back properties (contacts) and the alert-key property
(tasks), through the properties API. Webhook subscriptions of a private app cannot be changed by API
(https://developers.hubspot.com/docs/api/private-apps, "Webhooks are supported in private apps, but
subscriptions cannot be edited programmatically"), so install writes the exact subscriptions to add.
Salesforce: a metadata package and its instructions (see salesforce_package). Everything is computed
first as a plan, so `--dry-run` prints exactly what a real run does, and a second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from connector.crm.hubspot import TASK_KEY
from connector.crm.hubspot_schema import HubSpotSchema
from connector.engine.clients import Clients
from connector.engine.nurture_step import OUTPUT_TYPES
from connector.settings import Settings
from connector.settings.mapping_config import Writeback

GROUP = "nurture"


@dataclass
class InstallPlan:
    hubspot_create: dict[str, dict[str, str]] = field(default_factory=dict)  # object -> {property: type}
    hubspot_remove: dict[str, list[str]] = field(default_factory=dict)  # object -> [property]
    files: dict[str, str] = field(default_factory=dict)  # path -> text, for files that are new or changed
    unchanged: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (any(self.hubspot_create.values()) or any(self.hubspot_remove.values()) or self.files)


def our_properties(settings: Settings) -> dict[str, dict[str, str]]:
    """object -> {property: type}: the HubSpot properties the connector owns."""
    contacts = {}
    for output, target in settings.mapping.writeback.hubspot.items():
        name, _ = Writeback.target(target)
        if name != "lifecyclestage":  # HubSpot's own; never created or removed by us
            contacts[name] = OUTPUT_TYPES.get(output, "string")
    return {"contacts": contacts, "tasks": {TASK_KEY: "string"}}


def plan_install(settings: Settings, clients: Clients | None, out_dir: Path, secrets_user: str | None,
                 path_token: str | None) -> InstallPlan:
    from connector.engine import salesforce_package as sfp

    plan = InstallPlan()
    if settings.app.hubspot.enabled and clients is not None:
        schema = HubSpotSchema(clients.hubspot)
        for obj, wanted in our_properties(settings).items():
            existing = schema.properties(obj)
            missing = {name: kind for name, kind in wanted.items() if name not in existing}
            if missing:
                plan.hubspot_create[obj] = missing
        _stage(plan, out_dir / "hubspot-webhooks.md", hubspot_webhook_steps(settings))
    if settings.app.salesforce.enabled:
        endpoint = sfp.outbound_url(settings, path_token)
        user = secrets_user or "REPLACE_WITH_INTEGRATION_USERNAME"
        folder = out_dir / "salesforce"
        for rel, text in sfp.package(settings, endpoint, user).items():
            if rel != "destructiveChangesPost.xml":
                _stage(plan, folder / rel, text)
        _stage(plan, folder / "INSTRUCTIONS.md", sfp.instructions(
            settings, str(folder), settings.app.web.public_base_url is not None, secrets_user is not None))
    return plan


def plan_uninstall(settings: Settings, clients: Clients | None, out_dir: Path, remove_properties: bool) -> InstallPlan:
    from connector.engine import salesforce_package as sfp

    plan = InstallPlan()
    if settings.app.hubspot.enabled and clients is not None and remove_properties:
        schema = HubSpotSchema(clients.hubspot)
        for obj, wanted in our_properties(settings).items():
            existing = schema.properties(obj)
            # Only what install makes: our names, in our group, not HubSpot's own.
            ours = [n for n in wanted
                    if n in existing and existing[n].group == GROUP and not existing[n].hubspot_defined]
            if ours:
                plan.hubspot_remove[obj] = ours
    if settings.app.salesforce.enabled:
        files = sfp.package(settings, "", "")
        folder = out_dir / "salesforce-uninstall"
        _stage(plan, folder / "destructiveChangesPost.xml", files["destructiveChangesPost.xml"])
        _stage(plan, folder / "package.xml", sfp._manifest({}, settings.app.salesforce.api_version))
    return plan


def _stage(plan: InstallPlan, path: Path, text: str) -> None:
    try:
        same = path.read_text(encoding="utf-8") == text
    except OSError:
        same = False
    if same:
        plan.unchanged.append(str(path))
    else:
        plan.files[str(path)] = text


def apply_plan(plan: InstallPlan, clients: Clients | None) -> list[str]:
    done: list[str] = []
    if clients is not None:
        for obj, props in plan.hubspot_create.items():
            for name in clients.hubspot.ensure_properties(GROUP, props, object_type=obj):
                done.append(f"HubSpot: created {obj} property {name}")
        api = clients.hubspot.sdk.crm.properties.core_api
        for obj, names in plan.hubspot_remove.items():
            for name in names:
                clients.hubspot._call(f"DELETE /crm/v3/properties/{obj}/{{name}}",  # the client's retry and budget
                                      lambda o=obj, n=name: api.archive(o, n))
                done.append(f"HubSpot: archived {obj} property {name}")
    for path, text in plan.files.items():
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        # A workflow may name the outbound path token, which is a secret.
        target.chmod(0o600)
        done.append(f"wrote {path}")
    return done


def subscribed_properties(settings: Settings) -> list[str]:
    """HubSpot properties whose changes the connector needs to hear about: every mapped one (synced, or read
    by the brain even when `sync: none`) and the engagement counters."""
    names = {f.hubspot for f in settings.mapping.fields if f.hubspot}
    names |= set(settings.mapping.engagement.hubspot_counters)
    return sorted(n for n in names if n)


def hubspot_webhook_steps(settings: Settings) -> str:
    base = str(settings.app.web.public_base_url or "https://YOUR-PUBLIC-HOST").rstrip("/")
    rows = "\n".join(f"| contact.propertyChange | {name} |" for name in subscribed_properties(settings))
    return f"""# HubSpot webhook subscriptions for Nurture Connector

Generated by `nurture install`. A private app's subscriptions are edited in HubSpot, not by API.

1. Settings (gear) > Integrations > Private Apps > your app > Webhooks tab.
2. Target URL: `{base}/webhooks/hubspot` (HubSpot signs requests with the app's client secret:
   put it in `{settings.app.hubspot.client_secret_env}`).
3. Event throttling: leave the default (the connector acknowledges at once and batches its work).
4. Create these subscriptions (object type Contact), then make each one active:

| event | property |
|---|---|
| contact.creation | |
| contact.deletion | |
| contact.merge | |
| contact.restore | |
{rows}

5. `nurture preflight` then checks that `{base}/healthz` answers from outside.
"""
