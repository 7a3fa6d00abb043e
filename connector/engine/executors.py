"""Carrying out what the brain decided: due touches (workflow enrollment, static list, campaign member,
a task for the owner) and sales alerts (tasks), each idempotent by key, all batched where the CRM allows.

Salesforce tasks are upserts on Nurture_Alert_Key__c (one per lead and reason); list and campaign
membership ignore repeats. A person whose executors failed keeps its previous brain state, so the same
touches and alerts come due again on the next pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from connector.crm.errors import CrmError
from connector.crm.hubspot import TASK_KEY
from connector.engine.clients import Clients
from connector.engine.nurture_step import NurtureOutcome, email_of
from connector.engine.owners import OwnerRouter
from connector.engine.plan import BatchPlan
from connector.engine.track_exits import close_tracks, cross_write_opt_outs
from connector.settings import Settings


def execute(settings: Settings, clients: Clients, plan: BatchPlan, outcome: NurtureOutcome,
            now: datetime, write_ok: Callable[[int], bool]) -> None:
    """Carry out due touches and alerts. A person whose sync writes failed waits for the next pass."""
    configured = [t.hubspot_workflow_id for track in settings.nurture.tracks for t in track.touches
                  if t.hubspot_workflow_id is not None]
    legacy = clients.legacy_workflow_ids(configured) if configured else {}
    close_tracks(settings, clients, plan, outcome, write_ok, lambda w: legacy.get(w, w))
    cross_write_opt_outs(clients, plan, outcome, write_ok)
    enrollments: list[tuple[int, int, str, str | None]] = []
    lists: dict[str, list[tuple[int, str]]] = {}
    members: list[tuple[int, dict[str, Any]]] = []
    tasks: list[tuple[int, Any, str]] = []  # (person, alert-or-touch, subject)
    for index, result in outcome.results.items():
        person = plan.people[index]
        if not write_ok(index):
            outcome.failed.add(index)
            continue
        email = email_of(plan.pairs[index].canonical.get("email"))
        for touch in result.due_touches:
            if touch.hubspot_workflow_id is not None and email:
                enrollments.append((index, legacy.get(touch.hubspot_workflow_id, touch.hubspot_workflow_id), email,
                                    person.hubspot.id if person.hubspot is not None else None))
            if touch.hubspot_list_id is not None and person.hubspot is not None:
                lists.setdefault(touch.hubspot_list_id, []).append((index, person.hubspot.id))
            if touch.salesforce_campaign_id is not None and person.salesforce is not None:
                who = "ContactId" if person.salesforce.type == "Contact" else "LeadId"
                members.append((index, {"CampaignId": touch.salesforce_campaign_id, who: person.salesforce.id,
                                        "Status": "Sent"}))
            if touch.task_subject is not None:
                tasks.append((index, touch, touch.task_subject))
            outcome.touches += 1
        for alert in result.alerts:
            tasks.append((index, alert, alert.subject))
    for index, workflow_id, email, contact_id in enrollments:
        _try(outcome, index, "enroll", f"workflow {workflow_id}",
             lambda w=workflow_id, e=email, c=contact_id: clients.hubspot.enroll_in_workflow(w, e, c))
    for list_id, entries in lists.items():
        try:
            clients.hubspot.add_to_list(list_id, [cid for _, cid in entries])
            outcome.notes.extend((i, "enroll", f"HubSpot list {list_id}") for i, _ in entries)
        except CrmError as exc:
            outcome.failed.update(i for i, _ in entries)
            outcome.notes.extend((i, "error", f"HubSpot list {list_id}: {exc.message}") for i, _ in entries)
    if members:
        result = clients.salesforce.create("CampaignMember", [row for _, row in members])
        refused = {int(e.key): e for e in result.errors}
        for n, (index, row) in enumerate(members):
            error = refused.get(n)
            if error is not None and error.code != "DUPLICATE_VALUE":  # already a member: the touch stands
                outcome.failed.add(index)
                outcome.notes.append((index, "error", f"campaign {row['CampaignId']}: {error.code}: {error.message}"))
            else:
                outcome.notes.append((index, "enroll", f"Salesforce campaign {row['CampaignId']}"))
    _create_tasks(settings, clients, plan, outcome, tasks, now)


def _create_tasks(settings: Settings, clients: Clients, plan: BatchPlan, outcome: NurtureOutcome,
                  tasks: list[tuple[int, Any, str]], now: datetime) -> None:
    if not tasks:
        return
    target = settings.alerts.target
    sf_rows: dict[str, tuple[int, dict[str, Any]]] = {}
    hs_rows: list[tuple[int, dict[str, Any]]] = []
    router = _owner_router(settings, clients, plan, tasks)
    for index, item, subject in tasks:
        person = plan.people[index]
        due = getattr(item, "due_at", None) or now
        body = getattr(item, "body", None) or f"Nurture touch: {getattr(item, 'touch', subject)}"
        key = getattr(item, "key", None) or subject
        writes_to = "salesforce" if target == "salesforce" and person.salesforce is not None else "hubspot"
        owner = None
        if router is not None and writes_to == target:
            try:
                owner, _source = router.owner(_owner_candidates(person, item, target), _person_key(person))
            except CrmError:
                owner = None
        if target == "salesforce" and person.salesforce is not None:
            task_key = f"{person.salesforce.id}:{key}"[:255]
            row = {"WhoId": person.salesforce.id, "Subject": subject, "ActivityDate": due.date().isoformat(),
                   "Priority": getattr(item, "priority", "Normal"), "Description": body, "Status": "Not Started"}
            if owner:
                row["OwnerId"] = owner
            sf_rows[task_key] = (index, row)
        elif person.hubspot is not None:
            props = {"hs_task_subject": subject, "hs_task_body": body, "hs_timestamp": due.isoformat(),
                     "hs_task_priority": {"High": "HIGH", "Low": "LOW"}.get(getattr(item, "priority", ""), "MEDIUM"),
                     "hs_task_status": "NOT_STARTED"}
            if owner:
                props["hubspot_owner_id"] = owner
            props[TASK_KEY] = f"{person.hubspot.id}:{key}"[:255]
            hs_rows.append((index, {"contact_id": person.hubspot.id, "properties": props}))
    if sf_rows:
        result = clients.salesforce.upsert("Task", "Nurture_Alert_Key__c", {k: row for k, (_, row) in sf_rows.items()})
        refused = {e.key: e for e in result.errors}
        for key, (index, row) in sf_rows.items():
            if key in refused:
                outcome.failed.add(index)
                outcome.notes.append((index, "error", f"task {row['Subject']!r}: {refused[key].code}: "
                                                      f"{refused[key].message}"))
            else:
                outcome.tasks += 1
                outcome.notes.append((index, "task", f"Salesforce task {row['Subject']!r} due {row['ActivityDate']}"))
    if hs_rows:
        existing = clients.hubspot.existing_task_keys([row["properties"][TASK_KEY] for _, row in hs_rows])
        for index, row in [r for r in hs_rows if r[1]["properties"][TASK_KEY] in existing]:
            outcome.notes.append((index, "task", f"HubSpot task {row['properties']['hs_task_subject']!r} exists"))
        hs_rows = [r for r in hs_rows if r[1]["properties"][TASK_KEY] not in existing]
    if hs_rows:
        created = clients.hubspot.create_tasks([row for _, row in hs_rows])
        for (index, row), item in zip(hs_rows, created, strict=False):
            if isinstance(item, str):
                outcome.tasks += 1
                outcome.notes.append((index, "task", f"HubSpot task {row['properties']['hs_task_subject']!r}"))
            else:
                outcome.failed.add(index)
                outcome.notes.append((index, "error", f"HubSpot task: {item.code}: {item.message}"))


def _owner_candidates(person: Any, item: Any, target: str) -> list[str | None]:
    """Owner ids in the order they are trusted for the target CRM: its own record's owner first."""
    alert_owner = getattr(item, "owner_id", None)
    sf_owner = person.salesforce.fields.get("OwnerId") if person.salesforce is not None else None
    hs_owner = person.hubspot.properties.get("hubspot_owner_id") if person.hubspot is not None else None
    if target == "salesforce":
        return [alert_owner, sf_owner, hs_owner]
    return [hs_owner, alert_owner, sf_owner]


def _person_key(person: Any) -> str:
    for record, name in ((person.hubspot, "email"), (person.salesforce, "Email")):
        values = getattr(record, "properties", None) or getattr(record, "fields", None) or {}
        if values.get(name):
            return str(values[name]).strip().lower()
    return str((person.hubspot or person.salesforce).id) if (person.hubspot or person.salesforce) else ""


def _owner_router(settings: Settings, clients: Clients, plan: BatchPlan, tasks: list[tuple[int, Any, str]]
                  ) -> OwnerRouter | None:
    """A router that knows every candidate owner of this batch's tasks (one owners read, one User query)."""
    target = settings.alerts.target
    pools = settings.alerts.owners
    router = OwnerRouter(clients.owners(), target, pools.round_robin_salesforce if target == "salesforce"
                         else pools.round_robin_hubspot)
    try:
        router.prepare(c for index, item, _ in tasks for c in _owner_candidates(plan.people[index], item, target))
    except CrmError:
        return None  # owners unreadable: tasks go out without an owner rather than not at all
    return router


def _try(outcome: NurtureOutcome, index: int, action: str, what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
        outcome.notes.append((index, action, what))
    except CrmError as exc:
        outcome.failed.add(index)
        outcome.notes.append((index, "error", f"{what}: {exc.message}"))
