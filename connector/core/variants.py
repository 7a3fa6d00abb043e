"""Sticky A/B assignment: which variant of an experiment a contact gets, from a stable hash.

The hash of (experiment name, normalized email) is the same on every machine and every run, so a
contact stays in its arm without any stored state; the arm is still recorded with each touch sent
(the 4th element of a `sent` entry) so reports read what was actually sent, even after weights change.
Changing weights moves only the contacts near a bucket edge; renaming the experiment reshuffles all.
`winner:` ends the experiment: everyone gets the winner from then on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from connector.settings.nurture_config import Variant


def bucket(experiment: str, key: str) -> float:
    """A uniform number in [0, 1) for this contact in this experiment."""
    digest = hashlib.sha256(f"{experiment}\x1f{key.strip().lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: str, key: str | None, variants: Sequence[Variant], winner: str | None = None
           ) -> tuple[Variant, str]:
    """(the variant, why) for a contact identified by `key` (its email)."""
    by_name = {v.name: v for v in variants}
    if winner is not None:
        return by_name[winner], f"experiment {experiment} ended: winner {winner}"
    if not key:
        return variants[0], f"experiment {experiment}: no email to hash, first variant"
    point = bucket(experiment, key) * sum(v.weight for v in variants)
    edge = 0.0
    for variant in variants:
        edge += variant.weight
        if variant.weight > 0 and point < edge:
            return variant, f"experiment {experiment}: sticky hash of email → {variant.name}"
    last = [v for v in variants if v.weight > 0][-1]  # float rounding at the top edge
    return last, f"experiment {experiment}: sticky hash of email → {last.name}"
