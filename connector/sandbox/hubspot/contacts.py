"""Contact-only endpoints: merge and GDPR delete."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.records import Portal, Source
from connector.sandbox.hubspot.state import Record, iso, now_ms
from connector.sandbox.hubspot.validation import lifecycle_rank

bp = Blueprint("contacts", __name__)


def merge(portal: Portal, primary_id: str, merged_id: str, source: Source) -> Record:
    """Fold two contacts into a new one, as HubSpot does now: the merged contact gets a new id, and a
    read of either old id answers with it (see docs/SANDBOX-hubspot.md, "Merges")."""
    with portal.state.lock:
        primary = portal.find("contacts", primary_id)
        merged = portal.find("contacts", merged_id)
        if primary is None or merged is None:
            missing = primary_id if primary is None else merged_id
            raise not_found(f"Object not found. objectId are usually numeric. {missing}")
        if primary.id == merged.id:
            raise ApiError(400, "VALIDATION_ERROR", "Cannot merge a contact into itself")
        # The primary's values win; its blanks are filled from the other; lifecycle keeps the furthest stage.
        values = {k: v for k, v in primary.properties.items() if v and k not in _SYSTEM}
        values.update({k: v for k, v in merged.properties.items() if v and not values.get(k) and k not in _SYSTEM})
        stage_a, stage_b = primary.properties.get("lifecyclestage"), merged.properties.get("lifecyclestage")
        if stage_b and lifecycle_rank(stage_b) > lifecycle_rank(stage_a):
            values["lifecyclestage"] = stage_b
        emails = [e for e in (primary.properties.get("email"), merged.properties.get("email")) if e]
        if emails:
            values["email"] = emails[0]
        extra = [e for r in (primary, merged) for e in (r.properties.get("hs_additional_emails") or "").split(";")
                 if e]
        extra += [e for e in emails[1:] if e not in extra]
        old_ids = [primary.id, merged.id]
        previous = [i for r in (primary, merged) for i in (r.properties.get("hs_merged_object_ids") or "").split(";")
                    if i]
        survivor = Record(id=portal.state.new_id(), object_type="contacts", properties={},
                          created_at=min(primary.created_at, merged.created_at), updated_at=now_ms())
        ms = survivor.updated_at
        for name, value in {**values, "hs_object_id": survivor.id, "createdate": iso(survivor.created_at),
                            "lastmodifieddate": iso(ms), "hs_lastmodifieddate": iso(ms),
                            "hs_additional_emails": ";".join(extra) or None,
                            "hs_merged_object_ids": ";".join([*previous, *old_ids])}.items():
            survivor.set(name, value, ms, "CRM_UI" if source.change_source == "CRM_UI" else source.change_source,
                         source.source_id)
        state = portal.state
        for old in (primary, merged):
            del state.contacts[old.id]
            state.merged_into[old.id] = survivor.id
            for (other_type, other_id), _ in list(state.associations.get(("contacts", old.id), {}).items()):
                state.dissociate(("contacts", old.id), (other_type, other_id))
                state.associate(("contacts", survivor.id), (other_type, other_id))
            for lst in state.lists.values():
                if old.id in lst.members:
                    lst.members.setdefault(survivor.id, lst.members.pop(old.id))
        state.contacts[survivor.id] = survivor
        for email in [*emails, *extra]:
            state.email_index[email] = survivor.id
        portal.events.emit("contact.merge", survivor.id, source, primaryObjectId=int(primary.id),
                           mergedObjectIds=[int(merged.id)], newObjectId=int(survivor.id))
        return survivor


_SYSTEM = {"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_additional_emails",
           "hs_merged_object_ids"}


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
