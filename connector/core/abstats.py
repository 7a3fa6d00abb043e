"""Comparing two rates: Wilson intervals, the pooled two-proportion z-test, and the sample an effect needs.

Small and dependency-free; tests compare it with values computed independently (scipy/statsmodels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()
MIN_PER_ARM = 30  # below this, or fewer than 5 successes or failures in an arm, the normal approximation lies


def z_for(confidence: float) -> float:
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for one proportion (behaves at 0% and 100%, unlike the Wald interval)."""
    if n == 0:
        return None
    z = z_for(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exact at the edges: the formula leaves float dust (2.8e-17) where the bound is 0 or 1
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Comparison:
    rate_a: float
    rate_b: float
    difference: float  # b - a
    ci: tuple[float, float]  # of the difference, Wald (unpooled)
    z: float
    p_value: float  # two-sided
    too_small: str | None  # why the test should not be trusted yet, in plain words
    needed_per_arm: int | None  # contacts per arm to detect this difference with 80% power at 5%


def compare(successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95) -> Comparison | None:
    """Pooled two-proportion z-test of b against a, two-sided. None when an arm is empty."""
    if n_a == 0 or n_b == 0:
        return None
    pa, pb = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (pb - pa) / se_pooled if se_pooled > 0 else 0.0
    p_value = 2 * (1 - _NORMAL.cdf(abs(z))) if se_pooled > 0 else 1.0
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    zc = z_for(confidence)
    ci = (pb - pa - zc * se, pb - pa + zc * se)
    return Comparison(pa, pb, pb - pa, ci, z, p_value, _too_small(successes_a, n_a, successes_b, n_b),
                      needed_per_arm(pa, pb))


def needed_per_arm(pa: float, pb: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Per-arm sample to detect pa vs pb (normal approximation, two-sided); None when they are equal."""
    if pa == pb:
        return None
    za, zb = z_for(1 - alpha), _NORMAL.inv_cdf(power)
    mean = (pa + pb) / 2
    top = za * math.sqrt(2 * mean * (1 - mean)) + zb * math.sqrt(pa * (1 - pa) + pb * (1 - pb))
    return math.ceil((top / (pa - pb)) ** 2)


def _too_small(sa: int, na: int, sb: int, nb: int) -> str | None:
    if min(na, nb) < MIN_PER_ARM:
        return f"sample too small: {min(na, nb)} contacts in the smaller arm, at least {MIN_PER_ARM} needed"
    if min(sa, na - sa, sb, nb - sb) < 5:
        return "sample too small: an arm has fewer than 5 conversions (or non-conversions)"
    return None
