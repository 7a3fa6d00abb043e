"""The Salesforce side of `nurture install`: a Metadata API package (mdapi format) and the steps to deploy it.

Salesforce offers no REST call that makes custom fields or outbound messages for a connected app, so
install writes what an admin deploys: the custom fields (HubSpot_Id__c as External ID + Unique, the
write-back fields, Task.Nurture_Alert_Key__c), one outbound message and one workflow rule per synced
object. Pure: returns file names and text; the command writes them.

Formats: CustomField and WorkflowOutboundMessage / WorkflowRule in the Metadata API Developer Guide
(https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_workflow.htm); outbound
messages: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from connector.settings import Settings
from connector.settings.mapping_config import Writeback

OUTBOUND_NAME = "Nurture_{obj}_Changed"
# Field definitions by write-back output: (type, extra XML). Scores are numbers; the stages picklists.
OUTPUT_FIELDS = {
    "score": ("Number", "<precision>18</precision><scale>0</scale>"),
    "fit_score": ("Number", "<precision>18</precision><scale>0</scale>"),
    "engagement_score": ("Number", "<precision>18</precision><scale>0</scale>"),
    "persona": ("Text", "<length>80</length>"),
    "segments": ("Text", "<length>255</length>"),
    "track": ("Text", "<length>80</length>"),
    "next_touch": ("Date", ""),
}
LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
             "evangelist", "other")


def _field(name: str, label: str, kind: str, extra: str, description: str) -> str:
    return (f"    <fields>\n        <fullName>{name}</fullName>\n        <label>{escape(label)}</label>\n"
            f"        <type>{kind}</type>\n        {extra}\n        <description>{escape(description)}</description>\n"
            f"    </fields>\n")


def _picklist(values: list[str]) -> str:
    items = "".join(f"<value><fullName>{escape(v)}</fullName><default>false</default><label>{escape(v)}</label>"
                    f"</value>" for v in values)
    return f"<valueSet><restricted>true</restricted><valueSetDefinition><sorted>false</sorted>{items}" \
           f"</valueSetDefinition></valueSet>"


def custom_fields(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """object -> [(field API name, <fields> XML)] for what the connector needs on each synced object."""
    mapping = settings.mapping
    stages = [s.name for s in settings.lifecycle.journey]
    result: dict[str, list[tuple[str, str]]] = {}
    for obj in mapping.salesforce.objects:
        fields = [(mapping.salesforce.external_id_field, _field(
            mapping.salesforce.external_id_field, "HubSpot Id", "Text",
            "<length>64</length><externalId>true</externalId><unique>true</unique><caseSensitive>false</caseSensitive>",
            "The HubSpot contact id; makes the connector's creates upserts."))]
        for output, target in mapping.writeback.salesforce.items():
            api_name, values = Writeback.target(target)
            label = api_name.removesuffix("__c").replace("_", " ")
            if output in OUTPUT_FIELDS:
                kind, extra = OUTPUT_FIELDS[output]
            else:  # journey_stage, lifecycle_stage: restricted picklists of the values the brain writes
                names = stages if output == "journey_stage" else list(LIFECYCLE)
                kind, extra = "Picklist", _picklist([values.get(n, n) for n in names])
            fields.append((api_name, _field(api_name, label, kind, extra, f"Nurture Connector: the brain's {output}.")))
        result[obj] = fields
    result["Task"] = [("Nurture_Alert_Key__c", _field(
        "Nurture_Alert_Key__c", "Nurture Alert Key", "Text",
        "<length>255</length><externalId>true</externalId><unique>true</unique><caseSensitive>false</caseSensitive>",
        "One open alert task per lead and reason."))]
    return result


def outbound_url(settings: Settings, path_token: str | None) -> str:
    base = str(settings.app.web.public_base_url or "https://YOUR-PUBLIC-HOST").rstrip("/")
    return f"{base}/webhooks/salesforce" + (f"/{path_token}" if path_token else "")


def workflow(settings: Settings, obj: str, endpoint: str, integration_user: str) -> str:
    fields = ["Id", *sorted({name for f in settings.mapping.fields if (name := f.salesforce_name(obj))} - {"Id"})]
    name = OUTBOUND_NAME.format(obj=obj)
    field_xml = "".join(f"\n        <fields>{f}</fields>" for f in fields)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Workflow xmlns="http://soap.sforce.com/2006/04/metadata">
    <outboundMessages>
        <fullName>{name}</fullName>
        <apiVersion>{settings.app.salesforce.api_version}</apiVersion>
        <description>Tells Nurture Connector that a {obj} changed; it reads the record itself.</description>
        <endpointUrl>{escape(endpoint)}</endpointUrl>{field_xml}
        <includeSessionId>false</includeSessionId>
        <integrationUser>{escape(integration_user)}</integrationUser>
        <name>{name}</name>
        <protected>false</protected>
        <useDeadLetterQueue>false</useDeadLetterQueue>
    </outboundMessages>
    <rules>
        <fullName>{name}</fullName>
        <actions>
            <name>{name}</name>
            <type>OutboundMessage</type>
        </actions>
        <active>true</active>
        <description>Every create and edit of a {obj} notifies Nurture Connector.</description>
        <formula>true</formula>
        <triggerType>onAllChanges</triggerType>
    </rules>
</Workflow>
"""


def package(settings: Settings, endpoint: str, integration_user: str) -> dict[str, str]:
    """relative path -> file text, for `sf project deploy start --metadata-dir DIR` (or Workbench)."""
    fields = custom_fields(settings)
    files: dict[str, str] = {}
    for obj, items in fields.items():
        body = "".join(xml for _, xml in items)
        files[f"objects/{obj}.object"] = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                                          '<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">\n'
                                          f"{body}</CustomObject>\n")
    objects = settings.mapping.salesforce.objects
    for obj in objects:
        files[f"workflows/{obj}.workflow"] = workflow(settings, obj, endpoint, integration_user)
    members = {
        "CustomField": [f"{obj}.{name}" for obj, items in fields.items() for name, _ in items],
        "WorkflowOutboundMessage": [f"{obj}.{OUTBOUND_NAME.format(obj=obj)}" for obj in objects],
        "WorkflowRule": [f"{obj}.{OUTBOUND_NAME.format(obj=obj)}" for obj in objects],
    }
    files["package.xml"] = _manifest(members, settings.app.salesforce.api_version)
    files["destructiveChangesPost.xml"] = _manifest(
        {"WorkflowRule": members["WorkflowRule"], "WorkflowOutboundMessage": members["WorkflowOutboundMessage"]},
        settings.app.salesforce.api_version)
    return files


def _manifest(members: dict[str, list[str]], version: str) -> str:
    types = "".join("    <types>\n" + "".join(f"        <members>{m}</members>\n" for m in sorted(names))
                    + f"        <name>{kind}</name>\n    </types>\n" for kind, names in members.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n'
            f"{types}    <version>{version}</version>\n</Package>\n")


def instructions(settings: Settings, folder: str, endpoint_known: bool, user_known: bool) -> str:
    objects = " and ".join(settings.mapping.salesforce.objects)
    warnings = []
    if not endpoint_known:
        warnings.append("- web.public_base_url is not set: the workflows name https://YOUR-PUBLIC-HOST. Set it in "
                        "app.yaml and run `nurture install` again before deploying.")
    if not user_known:
        warnings.append("- The integration user is unknown (auth flow without a username): replace "
                        "REPLACE_WITH_INTEGRATION_USERNAME in workflows/*.workflow with its username.")
    notes = "\n".join(warnings) or "- None: the package is complete."
    return f"""# Salesforce setup for Nurture Connector

Generated by `nurture install`. Running install again rewrites the same files (nothing changes if the
configuration did not).

Before you deploy:
{notes}

## 1. Deploy the package (custom fields, outbound messages, workflow rules)

With the Salesforce CLI, signed in to the org as an admin:

    sf project deploy start --metadata-dir {folder} --target-org YOUR_ORG_ALIAS

(or Workbench > Migration > Deploy, with the folder zipped). The package holds:
- on {objects}: `{settings.mapping.salesforce.external_id_field}` (Text 64, External ID, Unique) and the
  write-back fields of mappings/contact.yaml `writeback.salesforce`;
- on Task: `Nurture_Alert_Key__c` (Text 255, External ID, Unique);
- an outbound message and an active workflow rule per object ({objects}) that send the record id on
  every create and edit.

## 2. Field-level security

Setup > Permission Sets > New ("Nurture Connector"), Object Settings: Read, Create, Edit on {objects};
Create on Task and CampaignMember; Read on Campaign and User; Edit on every field above. Assign it to the
integration user.

## 3. Outbound message endpoint

Outbound messages are configured in Setup; the package sets the endpoint. Check it under Setup > Process
Automation > Workflow Actions > Outbound Messages. Salesforce calls it from its own servers, so it must
be a public https address. Add the OrganizationId to `{settings.app.salesforce.org_ids_env}`.

## 4. Connected app / named credential

The connector signs in to Salesforce with the OAuth flow in app.yaml (`salesforce.auth.flow`); Salesforce
never calls the connector except by outbound message, so no named credential is needed in the org.

## 5. Check

    nurture preflight

## Removing

`nurture uninstall` writes `destructiveChangesPost.xml` beside package.xml; deploy it with an empty
package to remove the outbound messages and workflow rules. Custom fields hold data and are never removed
by the connector; delete them by hand if you want them gone.
"""
