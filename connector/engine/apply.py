"""Apply a batch plan: creates first (so new ids can be linked), then updates, then deletions; batch calls
throughout; every write and every refusal recorded. A crash anywhere only repeats work: creates are
upserts keyed by email / HubSpot id, and the merge base is saved only after the writes it reflects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from connector.core.pair import SalesforceRecord
from connector.crm.errors import RecordError
from connector.engine.clients import Clients
from connector.engine.nurture_step import NurtureOutcome
from connector.engine.plan import BatchPlan, Step
from connector.settings.mapping_config import MappingConfig
from connector.store.audit_log import AuditEntry, write_audit, write_dead_letter
from connector.store.links import save_link


@dataclass
class Outcome:
    writes: int = 0
    creates: int = 0
    dead_letters: int = 0
    retry_people: set[int] = field(default_factory=set)  # transient refusals: try these again later
    failed_sides: dict[int, set[str]] = field(default_factory=dict)  # person -> systems whose write failed
    audit: list[tuple[int, AuditEntry]] = field(default_factory=list)  # (person, entry)
    dead: list[tuple[Step, RecordError]] = field(default_factory=list)


def apply_plan(plan: BatchPlan, clients: Clients, mapping: MappingConfig) -> Outcome:
    outcome = Outcome()
    by_kind: dict[tuple[str, str], list[Step]] = {}
    for step in plan.steps:
        by_kind.setdefault((step.system, step.action), []).append(step)

    _hubspot_creates(plan, clients, by_kind.get(("hubspot", "create"), []), outcome)
    _salesforce_creates(plan, clients, mapping, by_kind.get(("salesforce", "create"), []), outcome)
    _stamp_external_ids(plan, mapping, by_kind.get(("hubspot", "create"), []))
    _hubspot_updates(clients, by_kind.get(("hubspot", "update"), []), outcome)
    _salesforce_updates(clients, [s for s in plan.steps if s.system == "salesforce" and s.action == "update"], outcome)
    _deletions(plan, clients, [s for s in plan.steps if s.action in ("delete", "unlink")], outcome)
    return outcome


def _record_result(outcome: Outcome, step: Step, error: RecordError | None, object_id: str | None) -> None:
    if error is None:
        outcome.writes += 1
        if step.action == "create":
            outcome.creates += 1
        for name, after in step.fields.items() or {"": None}.items():
            outcome.audit.append((step.person, AuditEntry(step.system, step.object_type, object_id, step.action,
                                                          name or None, step.before.get(name), after,
                                                          step.reasons.get(name))))
        return
    outcome.failed_sides.setdefault(step.person, set()).add(step.system)
    if error.retryable:
        outcome.retry_people.add(step.person)
        return
    outcome.dead.append((step, error))
    outcome.dead_letters += 1
    outcome.audit.append((step.person, AuditEntry(step.system, step.object_type, object_id, "error", None, None,
                                                  None, step.action, f"{error.code}: {error.message}")))


def _hubspot_creates(plan: BatchPlan, clients: Clients, steps: list[Step], outcome: Outcome) -> None:
    if not steps:
        return
    by_email = {str(s.fields["email"]).lower(): s for s in steps}
    result = clients.hubspot.upsert_by_email({email: s.fields for email, s in by_email.items()})
    errors = {e.key.lower(): e for e in result.errors}
    for email, step in by_email.items():
        record = result.done.get(email)
        if record is not None:
            person = plan.people[step.person]
            person.hubspot = record
            person.link.hubspot_id = record.id
        _record_result(outcome, step, errors.get(email) if record is None else None, record.id if record else None)


def _salesforce_creates(plan: BatchPlan, clients: Clients, mapping: MappingConfig, steps: list[Step],
                        outcome: Outcome) -> None:
    external = mapping.salesforce.external_id_field
    for sobject in {s.object_type for s in steps}:
        batch = {str(s.fields[external]): s for s in steps if s.object_type == sobject}
        result = clients.salesforce.upsert(sobject, external, {k: s.fields for k, s in batch.items()})
        errors = {e.key: e for e in result.errors}
        for key, step in batch.items():
            new_id = result.done.get(key)
            if new_id:
                person = plan.people[step.person]
                person.salesforce = SalesforceRecord(sobject, new_id, dict(step.fields))
                person.link.salesforce_id, person.link.salesforce_type = new_id, sobject
            _record_result(outcome, step, errors.get(key) if not new_id else None, new_id)


def _stamp_external_ids(plan: BatchPlan, mapping: MappingConfig, created: list[Step]) -> None:
    """A HubSpot contact made from a Salesforce record: write its id into the external-id field."""
    external = mapping.salesforce.external_id_field
    for step in created:
        person = plan.people[step.person]
        if person.hubspot is None or person.salesforce is None:
            continue
        if person.salesforce.fields.get(external) == person.hubspot.id:
            continue
        plan.steps.append(Step(step.person, "salesforce", person.salesforce.type, person.salesforce.id, "update",
                               {external: person.hubspot.id}, {external: person.salesforce.fields.get(external)},
                               {external: "link: HubSpot id of the contact created for this record"}))


def _hubspot_updates(clients: Clients, steps: list[Step], outcome: Outcome) -> None:
    if not steps:
        return
    merged: dict[str, dict[str, Any]] = {}
    for step in steps:
        merged.setdefault(str(step.object_id), {}).update(step.fields)
    result = clients.hubspot.update(merged)
    errors = {e.key: e for e in result.errors}
    for step in steps:
        ok = str(step.object_id) in result.done
        _record_result(outcome, step, None if ok else errors.get(str(step.object_id), _unknown(step)), step.object_id)


def _salesforce_updates(clients: Clients, steps: list[Step], outcome: Outcome) -> None:
    for sobject in {s.object_type for s in steps}:
        mine = [s for s in steps if s.object_type == sobject]
        merged: dict[str, dict[str, Any]] = {}
        for step in mine:
            merged.setdefault(str(step.object_id), {}).update(step.fields)
        result = clients.salesforce.update(sobject, merged)
        errors = {e.key: e for e in result.errors}
        for step in mine:
            ok = str(step.object_id) in result.done
            _record_result(outcome, step, None if ok else errors.get(str(step.object_id), _unknown(step)),
                           step.object_id)


def _deletions(plan: BatchPlan, clients: Clients, steps: list[Step], outcome: Outcome) -> None:
    for step in steps:
        person = plan.people[step.person]
        if step.action == "delete" and step.system == "salesforce":
            result = clients.salesforce.delete([str(step.object_id)])
            error = result.errors[0] if result.errors else None
            _record_result(outcome, step, error, step.object_id)
            if error is None:  # a refused delete keeps the link: the pair is still one person
                person.link.salesforce_id = None
                person.link.synced["_salesforce_deleted"] = True
        elif step.action == "delete" and step.system == "hubspot":
            clients.hubspot.archive([str(step.object_id)])  # raises on refusal: the batch is retried
            _record_result(outcome, step, None, step.object_id)
            person.link.hubspot_id = None
            person.link.synced["_hubspot_deleted"] = True
        else:  # unlink: remember the deletion so the survivor is not re-created on the other side
            gone = "hubspot" if person.hubspot_gone else "salesforce"
            setattr(person.link, f"{gone}_id", None)
            if gone == "salesforce":
                person.link.salesforce_type = None
            person.link.synced[f"_{gone}_deleted"] = True
            if step.reasons.get("", "").split(";")[0].endswith(": mark"):
                _record_result(outcome, step, None, step.object_id)  # "mark" leaves a trace in the audit


def _unknown(step: Step) -> RecordError:
    return RecordError(str(step.object_id), "NOT_APPLIED", "the CRM returned no result for this record")


def record_outcome(engine: Engine, run_id: str, plan: BatchPlan, outcome: Outcome,
                   nurture: NurtureOutcome | None = None,
                   fence: Callable[[Connection], None] | None = None) -> list[int]:
    """Save links, merge bases and brain state, audit and dead letters in one transaction. Returns contact ids.
    `fence` runs first inside that transaction and raises if the batch's lease has lapsed (engine/fencing.py)."""
    now = datetime.now(UTC)
    contact_ids: list[int] = []
    dead_by_person: dict[int, list[tuple[Step, RecordError]]] = {}
    for step, error in outcome.dead:
        dead_by_person.setdefault(step.person, []).append((step, error))
    with engine.begin() as conn:
        if fence is not None:
            fence(conn)
        for index, person in enumerate(plan.people):
            pair = plan.pairs[index]
            link = person.link
            if link.hubspot_id is None and link.salesforce_id is None and link.id is None:
                contact_ids.append(0)
                continue
            failed = outcome.failed_sides.get(index, set())
            if not failed:
                deleted = {k: v for k, v in link.synced.items() if k.startswith("_")}
                link.synced = {**pair.base, **deleted}
            link.email = str(pair.canonical.get("email") or link.email or "") or None
            if nurture is not None and index in nurture.results:
                _remember_brain(link, nurture, index)
            contact_id = save_link(conn, link, now)
            contact_ids.append(contact_id)
            for step, error in dead_by_person.get(index, []):
                write_dead_letter(conn, run_id, step.system, step.object_type, step.object_id, step.action,
                                  step.fields, error.code, error.message, contact_id, now)
            for name, message in pair.problems:
                outcome.audit.append((index, AuditEntry("store", "contact", str(contact_id), "error", name,
                                                        rule="mapping", message=message)))
            for note in person.notes:
                outcome.audit.append((index, AuditEntry("store", "contact", str(contact_id), "link",
                                                        rule="identity", message=note)))
        for index, action, message in (nurture.notes if nurture else []):
            outcome.audit.append((index, AuditEntry("nurture", "contact", None, action, rule="brain", message=message)))
        write_audit(conn, run_id, [replace(entry, contact_id=contact_ids[index] or None)
                                   for index, entry in outcome.audit], now)
        write_audit(conn, run_id, [AuditEntry(system, "record", oid, "duplicate", message=why, rule="identity")
                                   for system, oid, why in plan.duplicates], now)
    return contact_ids


RETRY_TOUCHES = timedelta(minutes=30)


def _remember_brain(link: Any, nurture: NurtureOutcome, index: int) -> None:
    """Keep the brain's new state only if its touches and alerts went out; else they come due again."""
    result = nurture.results[index]
    counters = link.brain.get("counters")
    if index in nurture.failed:
        # Its touches or alerts did not all go out: the old state stands, and the scheduler brings the
        # contact back in a while even if nothing changes in either CRM.
        link.next_due_at = datetime.now(UTC) + RETRY_TOUCHES
        return
    link.brain = {**result.state, **({"counters": counters} if counters else {})}
    link.next_due_at = result.next_touch_at
