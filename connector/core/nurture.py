"""Which nurture track a lead is on, and which touches go out now: a pure function of state and time.

A track is the first in config order whose `for` fits (persona x journey stage x lifecycle), whose
goal (`exit_when`) is not reached, and which still has a touch the lead has not had. A touch is never
sent twice (key "track:touch"), and content already sent on another track is skipped, so a lead that
moves between tracks when its journey stage changes does not get the same piece twice. A track whose
every touch is done is exhausted; the lead falls through to the next fitting track, or to none.
The caller persists the returned `sent` list only after executing the touches: if it does not, the
next run returns the same touches again (same idempotency keys).

A/B variants (connector.core.variants): a track with `variants:` gives each contact one arm's touch
list; a touch with `variants:` swaps that touch's content or executor. The arm is sticky (a hash of
email and experiment name) and recorded as the 4th element of the `sent` entry, "experiment=variant".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.core.cadence import Clock, zone
from connector.core.frozen import slot_builder
from connector.core.predicates import Ctx, Reasoned, fields_read
from connector.core.variants import assign
from connector.settings.nurture_config import NurtureConfig, Touch, Track, Variant

SentEntry = list  # [key "track:touch", ISO time, content id or None(, "experiment=variant")], JSON-friendly
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class DueTouch:
    track: str
    touch: str
    channel: str
    content: str | None
    hubspot_workflow_id: int | None
    hubspot_list_id: str | None
    salesforce_campaign_id: str | None
    task_subject: str | None
    key: str  # idempotency key: look before you enroll
    variant: str | None = None  # "experiment=variant" when an A/B experiment chose this touch


@dataclass(frozen=True, slots=True)
class Plan:
    track: str | None
    reason: str
    track_since: datetime | None
    due: tuple[DueTouch, ...]
    next_touch: str | None  # the touch that comes next, when it is not due yet
    next_touch_at: datetime | None
    sent: list[SentEntry]
    position: int  # touches of the track already done
    length: int
    variants: tuple[str, ...] = ()  # "experiment=variant  [why]" for each experiment that applied, for explain


# Plan(...) for the hot path: the same frozen object, without the generated __init__'s detour.
_plan = slot_builder(Plan)


Step = tuple  # (key, touch, wait, DueTouch, touch experiment or None)


def _steps(track_name: str, touches: list[Touch], arm: str | None) -> tuple[Step, ...]:
    steps = []
    for t in touches:
        key = f"{track_name}:{t.name}"
        due = DueTouch(track_name, t.name, t.channel, t.content, t.hubspot_workflow_id, t.hubspot_list_id,
                       t.salesforce_campaign_id, t.task_subject, key, arm)
        experiment = None
        if t.variants:  # per arm, the DueTouch it sends: built once, a value like the rest
            name = t.experiment or key.replace(" ", "_").lower()
            experiment = (name, t.variants, t.winner, {v.name: _override(due, v, name) for v in t.variants})
        steps.append((key, t, timedelta(days=t.wait_days), due, experiment))
    return tuple(steps)


def _override(due: DueTouch, v: Variant, experiment: str) -> DueTouch:
    def pick(mine: object, theirs: object) -> object:
        return mine if mine is not None else theirs

    return DueTouch(due.track, due.touch, due.channel, pick(v.content, due.content),  # type: ignore[arg-type]
                    pick(v.hubspot_workflow_id, due.hubspot_workflow_id),  # type: ignore[arg-type]
                    pick(v.hubspot_list_id, due.hubspot_list_id),  # type: ignore[arg-type]
                    pick(v.salesforce_campaign_id, due.salesforce_campaign_id),  # type: ignore[arg-type]
                    pick(v.task_subject, due.task_subject), due.key, f"{experiment}={v.name}")  # type: ignore[arg-type]


class _Track:
    __slots__ = ("arms", "cfg", "exit", "experiment", "keys", "lifecycle", "name", "personas", "stages", "steps")

    def __init__(self, track: Track) -> None:
        self.cfg = track
        self.name = track.name
        self.personas = frozenset(track.for_.personas) if track.for_.personas is not None else None
        self.stages = frozenset(track.for_.stages) if track.for_.stages is not None else None
        self.lifecycle = frozenset(track.for_.lifecycle) if track.for_.lifecycle is not None else None
        self.exit = Reasoned(track.exit_when) if track.exit_when is not None else None
        # per touch, in order: (idempotency key, touch, its wait, the DueTouch when it is due: a value, experiment)
        self.steps = _steps(track.name, track.touches, None)
        self.keys = tuple(step[0] for step in self.steps)
        self.experiment = track.experiment_name() if track.variants else None
        # track variants: each arm's own steps, tagged "experiment=arm"
        self.arms = {v.name: _steps(track.name, v.touches or [], f"{self.experiment}={v.name}")
                     for v in track.variants or ()}

    def arm(self, email: str | None) -> tuple[tuple[Step, ...], str | None]:
        """This contact's steps, and "experiment=variant  [why]" when the track is an experiment."""
        if self.experiment is None:
            return self.steps, None
        variant, why = assign(self.experiment, email, self.cfg.variants or (), self.cfg.winner)
        return self.arms[variant.name], f"{self.experiment}={variant.name}  [{why}]"

    def fits(self, persona: str | None, stage: str | None, lifecycle: str) -> bool:
        return ((self.personas is None or persona in self.personas)
                and (self.stages is None or stage in self.stages)
                and (self.lifecycle is None or lifecycle in self.lifecycle))


class Planner:
    def __init__(self, config: NurtureConfig) -> None:
        self.clock = Clock(config.cadence)
        self._now_text: tuple[datetime | None, str] = (None, "")  # (the last `now`, its isoformat())
        self.tracks = [_Track(t) for t in config.tracks]
        self.suppress = Reasoned(config.cadence.suppress_when) if config.cadence.suppress_when else None
        # whether `suppressed` can change when the brain records the chosen track in the facts
        self.suppress_reads_track = config.cadence.suppress_when is not None and "track" in fields_read(
            config.cadence.suppress_when)

    def suppressed(self, ctx: Ctx) -> str | None:
        facts = ctx.facts
        # Built in, whatever the config says: never touch these addresses.
        if facts.get("unsubscribed"):
            return "unsubscribed"
        if facts.get("bounced"):
            return "bounced"
        if facts.get("email_valid") is False:
            return "invalid address"
        return self.suppress.reason(ctx) if self.suppress is not None else None

    def plan(self, ctx: Ctx, persona: str | None, stage: str | None, lifecycle: str,
             previous_track: str | None, previous_since: datetime | None, sent: list[SentEntry],
             suppressed: str | object | None = _UNKNOWN) -> Plan:
        """`suppressed`: the answer of `self.suppressed(ctx)` when the caller already has it."""
        now = ctx.now
        sent = list(sent)
        why_not = self.suppressed(ctx) if suppressed is _UNKNOWN else suppressed
        if why_not is not None:
            return _plan(None, f"suppressed: {why_not}", None, (), None, None, sent, 0, 0, ())
        keys = {entry[0] for entry in sent}
        contents = {entry[2] for entry in sent if entry[2]}
        notes: list[str] = []
        chosen: _Track | None = None
        steps: tuple[Step, ...] = ()
        arm: str | None = None
        for track in self.tracks:
            if not track.fits(persona, stage, lifecycle):
                continue
            goal = track.exit.reason(ctx) if track.exit is not None else None
            if goal is not None:
                notes.append(f"{track.name} exited on goal ({goal})")
                continue
            steps, arm = track.arm(ctx.facts.get("email"))
            if _next_step(steps, keys, contents) is None:
                notes.append(f"{track.name} exited: content exhausted")
                continue
            chosen = track
            break
        if chosen is None:
            where = f"persona {persona}, journey stage {stage}, lifecycle {lifecycle}"
            return _plan(None, "; ".join(notes) or f"no track fits {where}", None, (), None, None, sent, 0, 0, ())

        reason = f"first track for persona {persona} × stage {stage} × lifecycle {lifecycle}"
        since = previous_since if chosen.name == previous_track and previous_since is not None else now
        if previous_track is not None and previous_track != chosen.name:
            reason += f"; moved from {previous_track}"
        if notes:
            reason += "; " + "; ".join(notes)
        return self._schedule(ctx, chosen, steps, arm, reason, since, sent, keys, contents)

    def _schedule(self, ctx: Ctx, track: _Track, steps: tuple[Step, ...], arm: str | None, reason: str,
                  since: datetime, sent: list[SentEntry], keys: set[str], contents: set[str]) -> Plan:
        now = ctx.now
        clock = self.clock
        tz = zone(ctx.facts.get(clock.timezone_field or ""), clock.default_timezone)
        times = [datetime.fromisoformat(entry[1]) for entry in sent]
        prefix = track.name + ":"
        in_track = [t for entry, t in zip(sent, times, strict=True) if entry[0].startswith(prefix)]
        last_in_track = max(in_track) if in_track else since
        due: list[DueTouch] = []
        variants = [arm] if arm else []
        step = _next_step(steps, keys, contents)
        next_at: datetime | None = None
        now_text = ""
        while step is not None:
            key, touch, wait, due_touch, experiment = step
            at = clock.allowed(max(clock.earliest(last_in_track + wait, times), now), tz)
            if at > now:
                next_at = at
                break
            if experiment is not None:
                name, options, winner, arms = experiment
                variant, why = assign(name, ctx.facts.get("email"), options, winner)
                due_touch = arms[variant.name]
                variants.append(f"{due_touch.variant}  [{why}]")
            due.append(due_touch)
            if not now_text:  # a rescore passes one `now` for every contact: format it once
                seen, now_text = self._now_text
                if seen is not now:
                    now_text = now.isoformat()
                    self._now_text = (now, now_text)
            if due_touch.variant is None:
                sent.append([key, now_text, touch.content])
            else:
                sent.append([key, now_text, due_touch.content, due_touch.variant])
            times.append(now)
            keys.add(key)
            if due_touch.content:
                contents.add(due_touch.content)
            last_in_track = now
            step = _next_step(steps, keys, contents)
        done = len([s for s in steps if s[0] in keys])
        return _plan(track.name, reason, since, tuple(due), step[1].name if step else None, next_at, sent,
                     done, len(steps), tuple(variants))


def _next_step(steps: tuple[Step, ...], keys: set[str], contents: set[str]) -> Step | None:
    """The first touch of the track not sent yet and whose content the lead has not had."""
    for step in steps:
        touch = step[1]
        if step[0] in keys or (touch.content and touch.content in contents):
            continue
        return step
    return None


def _pending(track: Track, keys: set[str], contents: set[str]) -> Touch | None:
    for touch in track.touches:
        if f"{track.name}:{touch.name}" in keys or (touch.content and touch.content in contents):
            continue
        return touch
    return None
