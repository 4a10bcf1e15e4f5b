"""Statistics for strategy experiments: differences between arms with intervals, and the smallest
effect a sample can detect.

Plain functions over counts and values (no DuckDB, no Dagster) so the report, the
`experiment_results` asset and the simulator's study of true against measured lift all use the
same arithmetic. A difference is always arm b minus arm a (challenger minus champion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval; `significant` when the interval excludes 0."""

    estimate: float
    low: float
    high: float
    significant: bool

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


UNDEFINED = Interval(math.nan, math.nan, math.nan, False)


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of one proportion (no continuity correction)."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({n}), got {successes}")
    z = _z(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _interval(estimate: float, low: float, high: float) -> Interval:
    return Interval(estimate, low, high, low > 0 or high < 0)


def rate_difference(cured_a: int, n_a: int, cured_b: int, n_b: int,
                    level: float = 0.95) -> Interval:
    """p_b - p_a with Newcombe's hybrid score interval (1998, method 10): good coverage even for
    small arms and rates near 0 or 1, where the plain Wald interval is too narrow."""
    if n_a <= 0 or n_b <= 0:
        return UNDEFINED
    p_a, p_b = cured_a / n_a, cured_b / n_b
    low_a, high_a = wilson(cured_a, n_a, level)
    low_b, high_b = wilson(cured_b, n_b, level)
    d = p_b - p_a
    low = d - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    high = d + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return _interval(d, low, high)


def mean_difference(values_a: Sequence[float], values_b: Sequence[float],
                    level: float = 0.95) -> Interval:
    """mean(b) - mean(a) with Welch's interval (unequal variances, Satterthwaite's degrees of
    freedom): amounts collected are skewed and their spread differs between arms."""
    n_a, n_b = len(values_a), len(values_b)
    if n_a < 2 or n_b < 2:
        return UNDEFINED
    mean_a, mean_b = sum(values_a) / n_a, sum(values_b) / n_b
    var_a = sum((v - mean_a) ** 2 for v in values_a) / (n_a - 1)
    var_b = sum((v - mean_b) ** 2 for v in values_b) / (n_b - 1)
    d = mean_b - mean_a
    se2 = var_a / n_a + var_b / n_b
    if se2 == 0:
        return _interval(d, d, d)
    df = se2 ** 2 / ((var_a / n_a) ** 2 / (n_a - 1) + (var_b / n_b) ** 2 / (n_b - 1))
    _z(level)
    half = float(stats.t.ppf(1 - (1 - level) / 2, df)) * math.sqrt(se2)
    return _interval(d, d - half, d + half)


def min_detectable_effect(p_base: float, n_a: int, n_b: int, alpha: float = 0.05,
                          power: float = 0.8) -> float:
    """The smallest absolute difference in a rate from `p_base` that a two-sided test at `alpha`
    finds with probability `power` (normal approximation, the base rate's variance in both
    arms). A true effect below it is likely to read as "no significant difference"."""
    if n_a <= 0 or n_b <= 0:
        return math.nan
    if not 0 <= p_base <= 1:
        raise ValueError(f"p_base must be between 0 and 1, got {p_base}")
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1, got {power}")
    z_alpha = _z(1 - alpha)
    z_power = float(stats.norm.ppf(power))
    return (z_alpha + z_power) * math.sqrt(p_base * (1 - p_base) * (1 / n_a + 1 / n_b))


def min_detectable_mean_difference(values_a: Sequence[float], values_b: Sequence[float],
                                   alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest difference in means (b - a) a two-sided test at `alpha` finds with
    probability `power`, from each arm's own spread (normal approximation)."""
    n_a, n_b = len(values_a), len(values_b)
    if n_a < 2 or n_b < 2:
        return math.nan
    mean_a, mean_b = sum(values_a) / n_a, sum(values_b) / n_b
    var_a = sum((v - mean_a) ** 2 for v in values_a) / (n_a - 1)
    var_b = sum((v - mean_b) ** 2 for v in values_b) / (n_b - 1)
    return (_z(1 - alpha) + float(stats.norm.ppf(power))) * math.sqrt(var_a / n_a + var_b / n_b)
