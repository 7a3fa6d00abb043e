"""A hypothesis state machine over both sandboxes: people edit fields on both sides (blanks, values with no
mapping, values too long, the same and different fields at once), webhooks are redelivered, the worker runs
part-way or drains. After each drain the data-first invariants of issue 10 are checked:

1. no field that held a value on some side becomes blank unless a person blanked it, on a side the rule allows;
2. where only one side was edited since the last check and the rule lets it win, both sides hold that edit;
3. mapped values converge: both sides equal, unless a value with no mapping (or a never-set one-way source) is
   involved;
4. the audit explains every value the connector changed;
5. a value with no mapping that keeps the sides apart is an open problem, and no problem stays open without one.

Shared by tests/sync/test_data_first_machine.py (bounded, in `make test`) and benchmarks/data_first_soak.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from connector.core.values import UnmappedValue, from_hubspot, from_salesforce, to_salesforce
from connector.store.models import audit, problems

LONG = "Vice President of " + "Very " * 30 + "Important Things"  # longer than Salesforce's Title (128)


@dataclass(frozen=True)
class Spec:
    name: str  # canonical
    hubspot: str | None  # None: people do not edit it in HubSpot
    salesforce: str
    hubspot_values: tuple[str, ...]
    salesforce_values: tuple[str, ...]


SPECS = (
    Spec("city", "city", "City", ("Oslo", "Bergen", ""), ("Oslo", "Trondheim", "")),
    Spec("job_title", "jobtitle", "Title", ("CTO", LONG, ""), ("CTO", "Head of Data", "")),
    Spec("phone", "phone", "Phone", ("+47 1", "+47 2", ""), ("+47 1", "+47 3", "")),
    Spec("industry", "industry", "Industry", ("COMPUTER_SOFTWARE", "BANKING", "STAFFING_AND_RECRUITING", ""),
         ("Technology", "Banking", "Apparel", "")),  # STAFFING_AND_RECRUITING and Apparel have no mapping
    Spec("lead_source", None, "LeadSource", (), ("Web", "Trade Show", "")),  # one-way from a never-set source
)
SIDES = ("hubspot", "salesforce")
UNMAPPED = object()


class DataFirstMachine(RuleBasedStateMachine):
    rig: Any = None  # set by the caller: a tests/sync SyncRig

    def __init__(self) -> None:
        super().__init__()
        rig = self.rig
        self.fields = {fm.name: fm for fm in rig.settings.mapping.fields}
        tag = time.monotonic_ns()
        email = f"machine{tag}@example.org"
        # A name and company of its own: Salesforce's duplicate rule matches on them across examples.
        self.hs_id = rig.hs_create(email=email, firstname="Ma", lastname=f"Chine{tag}", company=f"M {tag}",
                                   city="Start",
                                   jobtitle="Start", phone="+47 0", industry="BANKING")
        rig.mark("hubspot", self.hs_id)
        rig.sync()
        self.lead_id = rig.link(hubspot_id=self.hs_id).salesforce_id
        self.sobject, self.sf_id = "Lead", self.lead_id  # a conversion moves the person to a Contact
        self.contact_id = rig.link(hubspot_id=self.hs_id).id
        self._settle()
        self._checkpoint()

    # -- people ----------------------------------------------------------------------------------
    @rule(data=st.data())
    def edit_hubspot(self, data: Any) -> None:
        spec = data.draw(st.sampled_from([s for s in SPECS if s.hubspot]))
        value = data.draw(st.sampled_from(spec.hubspot_values))
        time.sleep(0.002)  # distinct change times
        self.rig.hs_edit(self.hs_id, **{spec.hubspot: value})
        self._person("hubspot", spec, value)

    @rule(data=st.data())
    def edit_salesforce(self, data: Any) -> None:
        spec = data.draw(st.sampled_from([s for s in SPECS if self._sf_name(s)]))
        value = data.draw(st.sampled_from(spec.salesforce_values))
        time.sleep(0.002)
        self.rig.sf_edit(self.sobject, self.sf_id, {self._sf_name(spec): value or None})
        self._person("salesforce", spec, value)

    @precondition(lambda self: self.sobject == "Lead")
    @rule()
    def sales_converts_the_lead(self) -> None:
        """Sales converts the Lead: the person continues as a Contact with the Lead's values (Industry has no
        Contact field in the shipped mapping, so it stops being compared)."""
        contact = self.rig.boxes.salesforce.convert_lead(self.lead_id)
        self.rig.mark("salesforce", self.lead_id, "Lead")
        self.sobject, self.sf_id = "Contact", contact
        self.touched = True
        for spec in SPECS:  # what the Contact holds is what sales put there
            if self._sf_name(spec):
                self.person_value[("salesforce", spec.name)] = self._read()[("salesforce", spec.name)]

    def _sf_name(self, spec: Spec) -> str | None:
        return self.fields[spec.name].salesforce_name(self.sobject)

    @rule(data=st.data())
    def edit_both_at_once(self, data: Any) -> None:
        """The same field (or two different ones) edited on both sides before the worker sees either."""
        self.edit_hubspot(data)
        self.edit_salesforce(data)

    # -- the connector -----------------------------------------------------------------------------
    @rule()
    def redeliver(self) -> None:
        self.rig.mark("hubspot", self.hs_id)
        self.rig.mark("salesforce", self.sf_id, self.sobject)

    @rule()
    def worker_runs_once(self) -> None:
        report = self.rig.worker.run_batch()
        assert report is None or report.error is None, report.error

    @precondition(lambda self: self.touched)
    @rule()
    def drain_and_check(self) -> None:
        self._settle()
        self._check()
        self._checkpoint()

    @invariant()
    def never_crashes(self) -> None:
        assert self.rig.dead_letters() == [] or all(d.error_code != "GAVE_UP" for d in self.rig.dead_letters())

    # -- bookkeeping -------------------------------------------------------------------------------
    def _person(self, side: str, spec: Spec, value: str) -> None:
        self.touched = True
        self.edits.setdefault(spec.name, []).append((side, value))
        self.person_value[(side, spec.name)] = value

    def _settle(self) -> None:
        for _ in range(3):  # the edits, then our writes' echoes
            self.redeliver()
            self.rig.sync()

    def _read(self) -> dict[tuple[str, str], str]:
        hs, sf = self.rig.hs(self.hs_id), self.rig.sf(self.sobject, self.sf_id)
        out = {}
        for spec in SPECS:
            out[("hubspot", spec.name)] = str(hs.get(self.fields[spec.name].hubspot or "") or "")
            out[("salesforce", spec.name)] = str(sf.get(self._sf_name(spec) or "") or "")
        return out

    def _checkpoint(self) -> None:
        self.touched = False
        self.edits: dict[str, list[tuple[str, str]]] = {}
        self.state = self._read()
        self.person_value = dict(self.state)
        with self.rig.engine.connect() as conn:
            self.audit_mark = conn.execute(select(audit.c.id).order_by(audit.c.id.desc()).limit(1)).scalar() or 0

    def _canonical(self, side: str, name: str, raw: str) -> Any:
        fm = self.fields[name]
        try:
            value = from_hubspot(fm, raw) if side == "hubspot" else from_salesforce(fm, raw)
            if side == "hubspot" and value is not None:
                to_salesforce(fm, value)  # a HubSpot value with no Salesforce entry
            return value
        except UnmappedValue:
            return UNMAPPED

    def _same(self, name: str, hs_raw: str, sf_raw: str) -> bool:
        fm = self.fields[name]
        hs, sf = self._canonical("hubspot", name, hs_raw), self._canonical("salesforce", name, sf_raw)
        if UNMAPPED in (hs, sf):
            return False
        limit = 128 if name == "job_title" else None

        def form(value: Any) -> Any:  # as Salesforce would hold it, read back (truncated, then trimmed)
            return from_salesforce(fm, to_salesforce(fm, value, limit))
        return form(hs) == form(sf)

    def _check(self) -> None:
        now = self._read()
        with self.rig.engine.connect() as conn:
            written = list(conn.execute(select(audit).where(audit.c.id > self.audit_mark,
                                                            audit.c.action.in_(("update", "create")))))
            open_problems = {r.field for r in conn.execute(select(problems).where(
                problems.c.contact_id == self.contact_id, problems.c.resolved_at.is_(None)))}
        for spec in SPECS:
            fm, name = self.fields[spec.name], spec.name
            if not self._sf_name(spec):
                continue  # no such field on a Contact: nothing to compare
            blanked_by = {side for side, value in self.edits.get(name, []) if value == ""}
            for side in SIDES:
                other = "salesforce" if side == "hubspot" else "hubspot"
                before, after = self.person_value[(side, name)], now[(side, name)]
                # 1. a blank the connector wrote must come from a person's blank on a side the rule allows
                if before and not after:
                    assert other in blanked_by and _blank_may_flow(fm.sync, other), (name, side, before, self.edits)
                # 4. every value the connector changed is in the audit
                if after != before:
                    crm = fm.hubspot if side == "hubspot" else self._sf_name(spec)
                    assert any(r.system == side and r.field == crm and str(r.after or "") == after for r in written), (
                        name, side, before, after)
            mapped = all(self._canonical(side, name, now[(side, name)]) is not UNMAPPED for side in SIDES)
            one_way_blank = fm.sync == "hubspot_to_salesforce" and not now[("hubspot", name)]
            # 3. mapped values converge
            if mapped and not one_way_blank:
                assert self._same(name, now[("hubspot", name)], now[("salesforce", name)]), (name, now, self.edits)
            # 2. a one-sided edit of a converged field wins where the rule lets it
            sides = {side for side, _ in self.edits.get(name, [])}
            if len(sides) == 1 and mapped and self._same(name, self.state[("hubspot", name)],
                                                         self.state[("salesforce", name)]):
                (side,) = sides
                value = self.edits[name][-1][1]
                wins = not (value == "" and fm.sync.endswith("_unless_blank")) and fm.sync != "none" and not (
                    fm.sync == "hubspot_to_salesforce" and side == "salesforce")
                if wins:
                    assert now[(side, name)] == value and self._same(name, now[("hubspot", name)],
                                                                    now[("salesforce", name)]), (name, value, now)
            # 5. values with no mapping that keep the sides apart are listed, and only those
            apart = not mapped and not self._same(name, now[("hubspot", name)], now[("salesforce", name)])
            if apart and not one_way_blank:
                assert name in open_problems, (name, now, open_problems)
            if mapped:
                assert name not in open_problems, (name, now, open_problems)


def _blank_may_flow(rule: str, source: str) -> bool:
    """May a person's blank on `source` clear the other side under `rule`?"""
    if rule.endswith("_unless_blank") or rule == "none":
        return False
    if rule == "hubspot_to_salesforce":
        return source == "hubspot"
    if rule == "salesforce_to_hubspot":
        return source == "salesforce"
    return True
