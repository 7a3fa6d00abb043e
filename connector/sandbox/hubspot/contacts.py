"""Contact-only endpoints: merge and GDPR delete."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.records import Portal, Source
from connector.sandbox.hubspot.state import Record
from connector.sandbox.hubspot.validation import lifecycle_rank

bp = Blueprint("contacts", __name__)


def merge(portal: Portal, primary_id: str, merged_id: str, source: Source) -> Record:
    """Fold one contact into another, keeping the primary's id (see docs/SANDBOX-hubspot.md)."""
    with portal.state.lock:
        primary = portal.find("contacts", primary_id)
        merged = portal.find("contacts", merged_id)
        if primary is None or merged is None:
            missing = primary_id if primary is None else merged_id
            raise not_found(f"Object not found. objectId are usually numeric. {missing}")
        if primary.id == merged.id:
            raise ApiError(400, "VALIDATION_ERROR", "Cannot merge a contact into itself")
        # Blanks on the primary are filled from the merged record; lifecycle keeps the furthest stage.
        fill = {k: v for k, v in merged.properties.items()
                if v and not primary.properties.get(k) and k not in _SYSTEM}
        stage_a, stage_b = primary.properties.get("lifecyclestage"), merged.properties.get("lifecyclestage")
        if stage_b and lifecycle_rank(stage_b) > lifecycle_rank(stage_a):
            fill["lifecyclestage"] = stage_b
        merged_email = merged.properties.get("email")
        internal = Source("IMPORT", source.source_id, webhooks=False)
        portal.archive(merged, internal)
        if merged_email and merged_email != primary.properties.get("email"):
            extra = [e for e in (primary.properties.get("hs_additional_emails") or "").split(";") if e]
            primary.properties["hs_additional_emails"] = ";".join([*extra, merged_email])
            fill.pop("email", None)
            portal.state.email_index[merged_email] = primary.id
        portal.apply(primary, fill, source)
        portal.state.merged_into[merged.id] = primary.id
        for (other_type, other_id), _ in list(portal.state.associations.get(("contacts", merged.id), {}).items()):
            portal.state.dissociate(("contacts", merged.id), (other_type, other_id))
            portal.state.associate(("contacts", primary.id), (other_type, other_id))
        for lst in portal.state.lists.values():
            if merged.id in lst.members:
                lst.members.setdefault(primary.id, lst.members.pop(merged.id))
        portal.events.emit("contact.merge", primary.id, source, primaryObjectId=int(primary.id),
                           mergedObjectIds=[int(merged.id)], newObjectId=int(primary.id))
        return primary


_SYSTEM = {"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_additional_emails"}


def gdpr_delete(portal: Portal, identifier: str, id_property: str | None, source: Source) -> None:
    with portal.state.lock:
        record = portal.find("contacts", identifier, id_property)
        if record is None:
            raise not_found()
        email = record.properties.get("email")
        if email and portal.state.email_index.get(email) == record.id:
            del portal.state.email_index[email]
        # A privacy deletion leaves nothing behind to restore.
        del portal.state.contacts[record.id]
        for other in list(portal.state.associations.get(("contacts", record.id), {})):
            portal.state.dissociate(("contacts", record.id), other)
        for lst in portal.state.lists.values():
            lst.members.pop(record.id, None)
        portal.events.emit("contact.privacyDeletion", record.id, source)


@bp.post("/crm/v3/objects/contacts/merge")
def merge_contacts() -> Response:
    context = ctx()
    body = json_body()
    record = merge(context.portal, str(body.get("primaryObjectId", "")), str(body.get("objectIdToMerge", "")),
                   context.api_source)
    return jsonify(context.portal.render(record, list(record.properties)))


@bp.post("/crm/v3/objects/contacts/gdpr-delete")
def gdpr_delete_contact() -> Response:
    context = ctx()
    body = json_body()
    gdpr_delete(context.portal, str(body.get("objectId", "")), body.get("idProperty"), context.api_source)
    return Response(status=204)
