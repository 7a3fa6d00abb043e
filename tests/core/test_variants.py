"""A/B variants: sticky hash assignment, weights, winner, recording in `sent`, and explain."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from connector.core.brain import Brain, BrainInput
from connector.core.variants import assign, bucket
from connector.settings.nurture_config import NurtureConfig, Variant

TUE = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _variants(*weights: float) -> list[Variant]:
    return [Variant(name=chr(ord("A") + i), weight=w) for i, w in enumerate(weights)]


def test_bucket_is_stable_and_case_blind() -> None:
    # A fixed value: the assignment must not change between releases, or contacts would switch arms.
    assert bucket("welcome_subject", "Eve@Small.io ") == bucket("welcome_subject", "eve@small.io")
    assert bucket("welcome_subject", "eve@small.io") == pytest.approx(0.98165, abs=1e-5)
    assert bucket("other", "eve@small.io") != bucket("welcome_subject", "eve@small.io")


def test_weights_split_contacts_in_proportion() -> None:
    counts = Counter(assign("exp", f"p{i}@x.io", _variants(3, 1))[0].name for i in range(8000))
    assert 0.72 < counts["A"] / 8000 < 0.78  # 75% expected; 8,000 draws put 3 sigma at ±1.5%


def test_zero_weight_gets_nobody_and_winner_gets_everybody() -> None:
    assert {assign("exp", f"p{i}@x.io", _variants(0, 1))[0].name for i in range(500)} == {"B"}
    variant, why = assign("exp", "eve@small.io", _variants(1, 1), winner="B")
    assert variant.name == "B" and "ended" in why
    assert assign("exp", None, _variants(1, 1))[0].name == "A"  # no email: the first (control) arm


def _brain(tracks: list[dict]) -> Brain:
    from connector.settings.loader import load_settings
    from tests.core.test_brain_nurture import REPO

    s = load_settings(REPO / "app.yaml", check_env=False)
    return Brain(s.scoring, s.segments, s.lifecycle, NurtureConfig.model_validate({"tracks": tracks}), s.alerts)


TOUCH_EXPERIMENT = [{"name": "all", "for": {}, "touches": [
    {"name": "hello", "channel": "email", "content": "hello", "hubspot_workflow_id": 1, "experiment": "hello_cta",
     "variants": [{"name": "A"}, {"name": "B", "content": "hello-b", "hubspot_workflow_id": 2}]}]}]


def test_touch_variant_swaps_the_executor_and_is_recorded_and_explained() -> None:
    brain = _brain(TOUCH_EXPERIMENT)
    seen = {}
    for i in range(40):
        email = f"lead{i}@corp.io"
        result = brain.think(BrainInput({"email": email}, [], None, TUE, explain=True))
        (touch,) = result.due_touches
        arm = assign("hello_cta", email, _variants(1, 1))[0].name
        assert touch.variant == f"hello_cta={arm}"
        assert touch.hubspot_workflow_id == (2 if arm == "B" else 1)
        assert result.state["sent"][-1] == ["all:hello", TUE.isoformat(), "hello-b" if arm == "B" else "hello",
                                            f"hello_cta={arm}"]
        assert any(line.startswith(f"A/B variant: hello_cta={arm}") for line in result.explain())
        seen[arm] = seen.get(arm, 0) + 1
    assert set(seen) == {"A", "B"}


def test_track_variant_gives_each_contact_one_arm_for_good() -> None:
    tracks = [{"name": "t", "for": {}, "touches": [{"name": "x", "channel": "email", "hubspot_workflow_id": 1}],
               "variants": [
                   {"name": "short", "touches": [{"name": "one", "channel": "email", "hubspot_workflow_id": 5}]},
                   {"name": "long", "touches": [{"name": "uno", "channel": "email", "hubspot_workflow_id": 6},
                                                {"name": "dos", "channel": "email", "hubspot_workflow_id": 7,
                                                 "wait_days": 3}]}]}]
    brain = _brain(tracks)
    for i in range(20):
        email = f"t{i}@corp.io"
        arm = assign("t", email, [Variant(name="short"), Variant(name="long")])[0].name
        first = brain.think(BrainInput({"email": email}, [], None, TUE))
        assert [t.touch for t in first.due_touches] == (["one"] if arm == "short" else ["uno"])
        assert first.state["sent"][0][3] == f"t={arm}"
        assert first.plan.length == (1 if arm == "short" else 2)
        later = brain.think(BrainInput({"email": email}, [], first.state, datetime(2026, 3, 20, 15, tzinfo=UTC)))
        assert [t.touch for t in later.due_touches] == ([] if arm == "short" else ["dos"])


@pytest.mark.parametrize(("touch_extra", "message"), [
    ({"variants": [{"name": "A"}, {"name": "A"}]}, "unique"),
    ({"variants": [{"name": "A"}, {"name": "B"}], "winner": "C"}, "is not a variant"),
    ({"variants": [{"name": "A", "weight": 0}, {"name": "B", "weight": 0}]}, "weight above 0"),
    ({"winner": "A"}, "needs `variants`"),
])
def test_bad_experiments_are_refused_with_a_reason(touch_extra: dict, message: str) -> None:
    touch = {"name": "hello", "channel": "email", "hubspot_workflow_id": 1, **touch_extra}
    with pytest.raises(ValidationError, match=message):
        NurtureConfig.model_validate({"tracks": [{"name": "t", "for": {}, "touches": [touch]}]})
