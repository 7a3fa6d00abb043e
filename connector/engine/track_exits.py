"""Closing the loop when a lead leaves a nurture track (goal reached, unsubscribed, moved on, exhausted):
it leaves the track's HubSpot workflows and static lists, and its Salesforce campaign membership gets a
status that says why. Only what the track actually did (its sent touches) is undone.

An opt-out or hard bounce seen in one CRM is written to the other: Salesforce HasOptedOutOfEmail, and
HubSpot's "unsubscribe from all" (communication preferences), since hs_email_optout is read-only there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.crm.errors import CrmError
from connector.crm.hubspot_nurture import remove_from_list, unenroll_from_workflow, unsubscribe_from_all
from connector.engine.clients import Clients
from connector.engine.nurture_step import NurtureOutcome, email_of
from connector.engine.plan import BatchPlan
from connector.settings import Settings

# CampaignMember Status per reason. "Responded" exists on every campaign; the others are member statuses
# the admin adds to each nurture campaign (Campaign > Advanced Setup). A status the campaign lacks is
# refused by Salesforce and noted in the audit; the exit itself still happens.
EXIT_STATUS = {"goal": "Responded", "unsubscribed": "Unsubscribed", "exhausted": "Completed", "moved": "Completed"}


@dataclass
class _Exits:
    workflows: list[tuple[int, int, str]] = field(default_factory=list)  # (person, workflow id, email)
    lists: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # list id -> (person, contact id)
    members: list[tuple[int, str, str, str]] = field(default_factory=list)  # (person, campaign, sf id, status)


def exit_reason(result: Any, previous: str) -> str:
    reason = str(getattr(result.plan, "reason", "") or "")
    if result.suppressed:
        return "unsubscribed"
    if f"{previous} exited on goal" in reason:
        return "goal"
    if f"{previous} exited: content exhausted" in reason:
        return "exhausted"
    return "moved"


def close_tracks(settings: Settings, clients: Clients, plan: BatchPlan, outcome: NurtureOutcome,
                 write_ok: Callable[[int], bool], legacy_id: Callable[[int], int]) -> None:
    tracks = {t.name: t for t in settings.nurture.tracks}
    exits = _Exits()
    for index, result in outcome.results.items():
        person = plan.people[index]
        before = person.link.brain or {}
        previous = before.get("track")
        if not previous or previous == result.plan.track or previous not in tracks or not write_ok(index):
            continue
        why = exit_reason(result, previous)
        sent = {entry[0] for entry in before.get("sent") or []}
        email = email_of(plan.pairs[index].canonical.get("email"))
        outcome.notes.append((index, "exit", f"left track {previous}: {why}"))
        for touch in tracks[previous].touches:
            if f"{previous}:{touch.name}" not in sent:
                continue
            if touch.hubspot_workflow_id is not None and email:
                exits.workflows.append((index, legacy_id(touch.hubspot_workflow_id), email))
            if touch.hubspot_list_id is not None and person.hubspot is not None:
                exits.lists.setdefault(touch.hubspot_list_id, []).append((index, person.hubspot.id))
            if touch.salesforce_campaign_id is not None and person.salesforce is not None:
                exits.members.append((index, touch.salesforce_campaign_id, person.salesforce.id, EXIT_STATUS[why]))
    _apply(clients, outcome, exits)


def _apply(clients: Clients, outcome: NurtureOutcome, exits: _Exits) -> None:
    for index, workflow_id, email in exits.workflows:
        try:
            unenroll_from_workflow(clients.hubspot, workflow_id, email)
            outcome.notes.append((index, "exit", f"unenrolled from workflow {workflow_id}"))
        except CrmError as exc:
            outcome.failed.add(index)  # the exit is seen again next pass: the brain state is not saved
            outcome.notes.append((index, "error", f"unenroll from workflow {workflow_id}: {exc.message}"))
    for list_id, entries in exits.lists.items():
        try:
            remove_from_list(clients.hubspot, list_id, [cid for _, cid in entries])
            outcome.notes.extend((i, "exit", f"removed from HubSpot list {list_id}") for i, _ in entries)
        except CrmError as exc:
            outcome.failed.update(i for i, _ in entries)
            outcome.notes.extend((i, "error", f"HubSpot list {list_id}: {exc.message}") for i, _ in entries)
    if not exits.members:
        return
    try:
        rows = clients.salesforce.campaign_members({c for _, c, _, _ in exits.members},
                                                   {p for _, _, p, _ in exits.members})
    except CrmError as exc:
        outcome.failed.update(i for i, _, _, _ in exits.members)
        outcome.notes.extend((i, "error", f"campaign members: {exc.message}") for i, _, _, _ in exits.members)
        return
    member_of = {(r["CampaignId"], r.get("LeadId") or r.get("ContactId")): r for r in rows}
    changes: dict[str, dict[str, Any]] = {}
    who: dict[str, tuple[int, str]] = {}
    for index, campaign, person_id, status in exits.members:
        row = member_of.get((campaign, person_id))
        if row is not None and row.get("Status") != status:
            changes[row["Id"]] = {"Status": status}
            who[row["Id"]] = (index, campaign)
    result = clients.salesforce.update("CampaignMember", changes) if changes else None
    refused = {e.key: e for e in result.errors} if result else {}
    for member_id, (index, campaign) in who.items():
        if member_id in refused:  # e.g. a status the campaign lacks: noted, not retried forever
            error = refused[member_id]
            outcome.notes.append((index, "error", f"campaign {campaign} status: {error.code}: {error.message}"))
        else:
            outcome.notes.append((index, "exit", f"campaign {campaign} status {changes[member_id]['Status']}"))


def cross_write_opt_outs(clients: Clients, plan: BatchPlan, outcome: NurtureOutcome,
                         write_ok: Callable[[int], bool]) -> None:
    """Salesforce opt-out or bounce -> HubSpot unsubscribe-all; HubSpot hard bounce -> Salesforce opt-out.
    (A HubSpot opt-out reaches HasOptedOutOfEmail through the email_optout mapping already.)"""
    sf_changes: dict[str, dict[str, Any]] = {}
    sobject_of: dict[str, str] = {}
    for index in outcome.results:
        person = plan.people[index]
        hs, sf = person.hubspot, person.salesforce
        if hs is None or sf is None or not write_ok(index):
            continue
        hs_out = str(hs.properties.get("hs_email_optout") or "").lower() == "true"
        hs_bounced = bool(hs.properties.get("hs_email_hard_bounce_reason"))
        sf_out = bool(sf.fields.get("HasOptedOutOfEmail"))
        sf_bounced = bool(sf.fields.get("EmailBouncedReason"))
        email = email_of(hs.properties.get("email"))
        if (sf_out or sf_bounced) and not hs_out and email:
            try:
                unsubscribe_from_all(clients.hubspot, email)
                outcome.notes.append((index, "optout", "HubSpot: unsubscribed from all email (seen in Salesforce)"))
            except CrmError as exc:
                outcome.failed.add(index)
                outcome.notes.append((index, "error", f"HubSpot unsubscribe: {exc.message}"))
        if hs_bounced and not sf_out:
            sf_changes[sf.id] = {"HasOptedOutOfEmail": True}
            sobject_of[sf.id] = sf.type
            outcome.notes.append((index, "optout", "Salesforce: HasOptedOutOfEmail (hard bounce in HubSpot)"))
    for sobject in sorted(set(sobject_of.values())):
        ids = {i: c for i, c in sf_changes.items() if sobject_of[i] == sobject}
        try:
            clients.salesforce.update(sobject, ids)
        except CrmError:
            continue  # retried with the next pass: the bounce is still there
