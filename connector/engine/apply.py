"""Apply a batch plan: creates first (so new ids can be linked), then updates, then deletions; batch calls
throughout; every write and every refusal recorded. A crash anywhere only repeats work: creates are
upserts keyed by email / HubSpot id, and the merge base is saved only after the writes it reflects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from connector.core.pair import OBSERVED, PairPlan, SalesforceRecord
from connector.crm.errors import RecordError
from connector.engine.clients import Clients
from connector.engine.nurture_step import NurtureOutcome
from connector.engine.plan import BatchPlan, Step
from connector.settings.mapping_config import MappingConfig
from connector.store.audit_log import AuditEntry, write_audit, write_dead_letter
from connector.store.links import save_link
from connector.store.problems import Found, record_problems


@dataclass(frozen=True)
class Letter:
    """One refusal to file as a dead letter: a record, or only some of its fields (the rest were written)."""

    person: int
    system: str
    object_type: str
    object_id: str | None
    operation: str
    payload: dict[str, Any]
    code: str
    message: str


@dataclass
class Outcome:
    writes: int = 0
    creates: int = 0
    dead_letters: int = 0
    retry_people: set[int] = field(default_factory=set)  # transient refusals: try these again later
    failed_sides: dict[int, set[str]] = field(default_factory=dict)  # person -> systems whose write failed
    refused: dict[int, set[tuple[str, str]]] = field(default_factory=dict)  # person -> {(system, CRM field)}
    audit: list[tuple[int, AuditEntry]] = field(default_factory=list)  # (person, entry)
    dead: list[Letter] = field(default_factory=list)
    new_problems: dict[str, int] = field(default_factory=dict)  # kind -> problems first seen in this batch


def apply_plan(plan: BatchPlan, clients: Clients, mapping: MappingConfig) -> Outcome:
    outcome = Outcome()
    by_kind: dict[tuple[str, str], list[Step]] = {}
    for step in plan.steps:
        by_kind.setdefault((step.system, step.action), []).append(step)

    _hubspot_creates(plan, clients, by_kind.get(("hubspot", "create"), []), outcome)
    _salesforce_creates(plan, clients, mapping, by_kind.get(("salesforce", "create"), []), outcome)
    _stamp_external_ids(plan, mapping, by_kind.get(("hubspot", "create"), []))
    _updates("hubspot", lambda _type, changes: clients.hubspot.update(changes),
             by_kind.get(("hubspot", "update"), []), outcome)
    _updates("salesforce", clients.salesforce.update,
             [s for s in plan.steps if s.system == "salesforce" and s.action == "update"], outcome)
    _deletions(plan, clients, [s for s in plan.steps if s.action in ("delete", "unlink")], outcome)
    return outcome


def _record_result(outcome: Outcome, step: Step, error: RecordError | None, object_id: str | None,
                   file_letter: bool = True) -> None:
    if error is None:
        outcome.writes += 1
        if step.action == "create":
            outcome.creates += 1
        _audit_fields(outcome, step, step.fields, object_id)
        return
    outcome.failed_sides.setdefault(step.person, set()).add(step.system)
    if error.retryable:
        outcome.retry_people.add(step.person)
        return
    if file_letter:  # several steps of one record share one refusal: file it once
        _letter(outcome, step, object_id, step.fields, error)


def _audit_fields(outcome: Outcome, step: Step, fields: dict[str, Any], object_id: str | None) -> None:
    for name, after in fields.items() or {"": None}.items():
        outcome.audit.append((step.person, AuditEntry(step.system, step.object_type, object_id, step.action,
                                                      name or None, step.before.get(name), after,
                                                      step.reasons.get(name))))


def _letter(outcome: Outcome, step: Step, object_id: str | None, payload: dict[str, Any], error: RecordError,
            fields: str = "") -> None:
    outcome.dead.append(Letter(step.person, step.system, step.object_type, object_id, step.action, dict(payload),
                               error.code, error.message))
    outcome.dead_letters += 1
    outcome.audit.append((step.person, AuditEntry(step.system, step.object_type, object_id, "error", fields or None,
                                                  None, None, step.action, f"{error.code}: {error.message}")))


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


# A CRM that refuses one value refuses the whole record; sending the rest again without it is at most this
# many more calls per batch (HubSpot lists every bad property at once; Salesforce may name one per answer).
SPLIT_ROUNDS = 3


def _updates(system: str, send: Callable[[str, dict[str, dict[str, Any]]], Any], steps: list[Step],
             outcome: Outcome) -> None:
    """Batch updates per object type. A record refused for named fields is sent again without them: the good
    fields are written, and only the refused ones become a dead letter (with the CRM's message)."""
    for sobject in sorted({s.object_type for s in steps}):
        mine = [s for s in steps if s.object_type == sobject]
        pending: dict[str, dict[str, Any]] = {}
        for step in mine:
            pending.setdefault(str(step.object_id), {}).update(step.fields)
        written: dict[str, set[str]] = {}
        refused: dict[str, list[tuple[set[str], RecordError]]] = {}
        failed: dict[str, RecordError] = {}
        for _ in range(SPLIT_ROUNDS):
            if not pending:
                break
            result = send(sobject, pending)
            errors = {e.key: e for e in result.errors}
            again: dict[str, dict[str, Any]] = {}
            for oid, fields in pending.items():
                if oid in result.done:
                    written[oid] = set(fields)
                    continue
                error = errors.get(oid) or _unknown(oid)
                bad = set() if error.retryable else refused_fields(error, fields)
                if bad and bad != set(fields):
                    refused.setdefault(oid, []).append((bad, error))
                    again[oid] = {k: v for k, v in fields.items() if k not in bad}
                elif bad and refused.get(oid):  # everything left is refused too
                    refused[oid].append((bad, error))
                else:
                    failed[oid] = error
            pending = again
        for oid in pending:  # still refused after the last round: the rest waits for the next run
            failed.setdefault(oid, _unknown(oid))
        _record_updates(outcome, mine, written, refused, failed)


def _record_updates(outcome: Outcome, steps: list[Step], written: dict[str, set[str]],
                    refused: dict[str, list[tuple[set[str], RecordError]]], failed: dict[str, RecordError]) -> None:
    filed: set[str] = set()
    for step in steps:
        oid = str(step.object_id)
        if oid in failed:
            _record_result(outcome, step, failed[oid], step.object_id, file_letter=oid not in filed)
            filed.add(oid)
            continue
        ok = {k: v for k, v in step.fields.items() if k in written.get(oid, set())}
        if ok:
            outcome.writes += 1
            _audit_fields(outcome, step, ok, step.object_id)
        bad = set(step.fields) - set(ok)
        if bad:
            outcome.refused.setdefault(step.person, set()).update((step.system, name) for name in bad)
        if oid in refused and oid not in filed:
            filed.add(oid)
            for names, error in refused[oid]:
                payload = {k: v for k, v in _all_fields(steps, oid).items() if k in names}
                _letter(outcome, step, step.object_id, payload, error, ", ".join(sorted(names)))


def _all_fields(steps: list[Step], oid: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for step in steps:
        if str(step.object_id) == oid:
            fields.update(step.fields)
    return fields


_HUBSPOT_VERDICTS = re.compile(r'"name"\s*:\s*"([^"]+)"')


def refused_fields(error: RecordError, sent: dict[str, Any]) -> set[str]:
    """The fields a refusal names, among those sent. Salesforce names them in `fields`; HubSpot in each
    error's context.propertyName (the crm layer's `fields`) and, as a fallback, in the JSON list of verdicts its
    VALIDATION_ERROR message carries ("Property values were not valid: [{...,"name":"industry",...}]")."""
    names = set(error.fields)
    if not names and "[" in error.message:
        names = set(_HUBSPOT_VERDICTS.findall(error.message))
    return names & set(sent)


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


def _unknown(object_id: str) -> RecordError:
    return RecordError(object_id, "NOT_APPLIED", "the CRM returned no result for this record")


def record_outcome(engine: Engine, run_id: str, plan: BatchPlan, outcome: Outcome,
                   nurture: NurtureOutcome | None = None,
                   fence: Callable[[Connection], None] | None = None) -> list[int]:
    """Save links, merge bases and brain state, audit, dead letters and problems in one transaction.
    Returns contact ids (0 for a person with no record anywhere). `fence` runs first inside that
    transaction and raises if the batch's lease has lapsed (engine/fencing.py)."""
    now = datetime.now(UTC)
    contact_ids: list[int] = []
    letters: dict[int, list[Letter]] = {}
    for letter in outcome.dead:
        letters.setdefault(letter.person, []).append(letter)
    for index, action, message in (nurture.notes if nurture else []):
        if action == "error":  # a touch or alert the CRM refused: an admin must see it, not only the audit
            code = _code_in(message)
            letters.setdefault(index, []).append(Letter(index, "nurture", "touch", None, "touch",
                                                        {"what": message.split(":")[0]}, code, message))
            outcome.dead_letters += 1
    with engine.begin() as conn:
        if fence is not None:
            fence(conn)
        for index, person in enumerate(plan.people):
            pair = plan.pairs[index]
            link = person.link
            if link.hubspot_id is None and link.salesforce_id is None and link.id is None:
                contact_ids.append(0)
                continue
            if not outcome.failed_sides.get(index):
                _forget_refused(pair, outcome.refused.get(index, set()))
                kept = {k: v for k, v in link.synced.items() if k.startswith("_") and k != OBSERVED}
                link.synced = {**pair.base, **kept}
            link.email = str(pair.canonical.get("email") or link.email or "") or None
            if nurture is not None and index in nurture.results:
                _remember_brain(link, nurture, index)
            contact_id = save_link(conn, link, now)
            contact_ids.append(contact_id)
            for letter in letters.get(index, []):
                write_dead_letter(conn, run_id, letter.system, letter.object_type, letter.object_id, letter.operation,
                                  letter.payload, letter.code, letter.message, contact_id, now)
            new = record_problems(conn, contact_id, [Found(p.field, p.kind, p.message, p.value)
                                                     for p in pair.problems], now)
            for problem in new:
                outcome.new_problems[problem.kind] = outcome.new_problems.get(problem.kind, 0) + 1
                outcome.audit.append((index, AuditEntry("store", "contact", str(contact_id), "problem", problem.field,
                                                        problem.value, None, "mapping", problem.message)))
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


def _forget_refused(pair: PairPlan, refused: set[tuple[str, str]]) -> None:
    """A field the CRM refused was not synced: its old base stands, so the next run tries it again."""
    for system, changes in (("hubspot", pair.hubspot), ("salesforce", pair.salesforce)):
        for change in changes:
            if (system, change.crm_field) in refused:
                pair.keep_prior(change.field)


_CODE = re.compile(r"\b([A-Z][A-Z_]{3,})\b")


def _code_in(message: str) -> str:
    match = _CODE.search(message)
    return match.group(1) if match else "REFUSED"


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
