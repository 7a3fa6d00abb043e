"""`nurture explain EMAIL`: every number and decision of a BrainResult, with its reason, as text lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.core.brain import BrainResult


def lines(r: BrainResult) -> list[str]:
    card = r.card
    out = [f"score {card.score} = fit {card.fit_score} + engagement {card.engagement_score}"]
    out.append(f"fit {card.fit_score}" + _clamped(card.fit_raw, card.fit))
    for c in card.contributions:
        if c.group == "fit":
            out.append(f"  {c.points:+g}  {c.rule}  [{c.why}]")
    out.append(f"engagement {card.engagement_score}" + _clamped(card.engagement_raw, card.engagement))
    for g in card.groups:
        cap = f", cap {g.cap:g} → {g.capped:.2f}" if g.cap is not None and g.capped != g.total else ""
        out.append(f"  group {g.name} ({g.decay}): {g.total:.2f}{cap}")
        for c in card.contributions:
            if c.group == g.name:
                capped = f", cap {c.cap:g} → {c.capped:.2f}" if c.cap is not None and c.capped != c.decayed else ""
                out.append(f"    {c.rule}: {c.count} × {c.points:+g} = {c.raw:+g}, decayed {c.decayed:+.2f}{capped}")
    out.append(f"content interactions: {r.content_interactions}")
    m = r.membership
    out.append(f"persona: {m.persona or '-'}  [{m.persona_reason}]")
    if m.segments:
        out.append("segments:")
        out.extend(f"  {name}  [{why}]" for name, why in zip(m.segments, m.segment_reasons, strict=True))
    else:
        out.append("segments: none")
    out.append(f"journey stage: {r.journey_stage or '-'}  [{r.journey_reason}]")
    crm = f" (CRM holds {r.crm_lifecycle})" if r.crm_lifecycle and r.crm_lifecycle != r.lifecycle_stage else ""
    flag = " RECYCLED now" if r.recycled else ""
    out.append(f"lifecycle: {r.lifecycle_stage}{crm}{flag}  [{r.lifecycle_reason}]")
    plan = r.plan
    if plan.track:
        out.append(f"track: {plan.track} ({plan.position}/{plan.length} touches done)  [{plan.reason}]")
    else:
        out.append(f"track: -  [{plan.reason}]")
    if plan.sent:
        last = max(plan.sent, key=lambda entry: entry[1])
        arm = f" (variant {last[3]})" if len(last) > 3 and last[3] else ""
        out.append(f"last touch: {last[0]} at {_when(datetime.fromisoformat(last[1]))}{arm}")
    else:
        out.append("last touch: none")
    for variant in plan.variants:
        out.append(f"A/B variant: {variant}")
    for touch in plan.due:
        arm = f", variant {touch.variant}" if touch.variant else ""
        out.append(f"due now: {touch.key} ({touch.channel}, {_executor(touch)}{arm})")
    if plan.next_touch and plan.next_touch_at:
        out.append(f"next touch: {plan.track}:{plan.next_touch} at {_when(plan.next_touch_at)}")
    else:
        out.append("next touch: none")
    for alert in r.alerts:
        out.append(f"alert raised now: {alert.reason} → {alert.owner_id or 'no owner'} ({alert.owner_source}), "
                   f"due {_when(alert.due_at)}")
    for reason, info in r.open_alerts.items():
        if all(a.reason != reason for a in r.alerts):
            out.append(f"alert open: {reason} since {info.get('at')} → {info.get('owner') or 'no owner'}")
    if r.recent:
        out.append("recent engagement:")
        out.extend(f"  {_when(at)}  {text}" for at, text in r.recent)
    return out


def _clamped(raw: float, clamped: float) -> str:
    return f" (sum {raw:.2f}, clamped to {clamped:.2f})" if raw != clamped else f" (sum {raw:.2f})"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _executor(touch: object) -> str:
    for name in ("hubspot_workflow_id", "hubspot_list_id", "salesforce_campaign_id", "task_subject"):
        value = getattr(touch, name)
        if value is not None:
            return f"{name}={value}"
    return "no executor"
