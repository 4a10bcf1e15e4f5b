"""Experiment statistics against published worked examples and values worked out by hand."""

import math
import random

import pytest

from pipelines.lib.collections.experiment_stats import (
    Interval,
    mean_difference,
    min_detectable_effect,
    min_detectable_mean_difference,
    rate_difference,
    wilson,
)

# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score, no continuity correction):
# (x1, n1, x2, n2, lower, upper) for p1 - p2.
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "lower", "upper"), NEWCOMBE_TABLE_II)
def test_rate_difference_matches_newcombe_table_ii(x1, n1, x2, n2, lower, upper):
    # the API's difference is b - a, Newcombe's is 1 - 2: arm b is his sample 1
    got = rate_difference(x2, n2, x1, n1)
    assert got.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert got.low == pytest.approx(lower, abs=5e-5)
    assert got.high == pytest.approx(upper, abs=5e-5)
    assert got.significant == (lower > 0 or upper < 0)


def test_rate_difference_is_antisymmetric():
    forward = rate_difference(48, 80, 56, 70)
    backward = rate_difference(56, 70, 48, 80)
    assert backward.estimate == pytest.approx(-forward.estimate)
    assert backward.low == pytest.approx(-forward.high)
    assert backward.high == pytest.approx(-forward.low)


def test_wilson_by_hand():
    # 0 of 10: upper = z^2/n / (1 + z^2/n) = 3.8415/10 / 1.38415 = 0.27753
    assert wilson(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(11, 10)


def test_no_difference_is_not_significant_and_a_large_one_is():
    assert not rate_difference(100, 1000, 105, 1000).significant
    assert rate_difference(100, 1000, 200, 1000).significant
    assert rate_difference(200, 1000, 100, 1000).significant


def test_empty_arm_gives_undefined_interval():
    got = rate_difference(0, 0, 3, 10)
    assert math.isnan(got.low) and not got.significant


def test_rate_difference_covers_the_truth_about_95_percent():
    rng = random.Random(19)
    p_a, p_b, n_a, n_b = 0.30, 0.36, 400, 100
    held = 0
    for _ in range(2000):
        cured_a = sum(rng.random() < p_a for _ in range(n_a))
        cured_b = sum(rng.random() < p_b for _ in range(n_b))
        held += rate_difference(cured_a, n_a, cured_b, n_b).contains(p_b - p_a)
    assert 0.93 <= held / 2000 <= 0.97


def test_mean_difference_welch_by_hand():
    # a: mean 2, variance 1; b: mean 6, variance 1. se^2 = 1/3 + 1/3 = 2/3,
    # df = (2/3)^2 / (2 * (1/3)^2 / 2) = 4; t(0.975, 4) = 2.776445 (tables)
    got = mean_difference([1, 2, 3], [5, 6, 7])
    half = 2.776445 * math.sqrt(2 / 3)
    assert got.estimate == 4
    assert got.low == pytest.approx(4 - half, abs=1e-5)
    assert got.high == pytest.approx(4 + half, abs=1e-5)
    assert got.significant


def test_mean_difference_agrees_with_scipy_welch():
    from scipy import stats

    a = [0, 0, 0, 120.5, 300, 0, 55, 0, 80, 0, 0, 400]
    b = [0, 250, 0, 0, 90, 310, 0, 75, 500, 0]
    got = mean_difference(a, b, level=0.9)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.9)
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high))
    assert not got.significant


def test_mean_difference_needs_two_values_per_arm():
    assert math.isnan(mean_difference([1.0], [1.0, 2.0]).low)
    assert mean_difference([5, 5], [5, 5]) == Interval(0, 0, 0, False)


def test_min_detectable_effect_by_hand():
    # (z_0.975 + z_0.8) = 1.959964 + 0.841621 = 2.801585
    # p 0.5, 100 each: sqrt(0.25 * 0.02) = 0.0707107 -> 0.198101
    assert min_detectable_effect(0.5, 100, 100) == pytest.approx(0.198101, abs=1e-6)
    # p 0.2, 800 and 200: sqrt(0.16 * (1/800 + 1/200)) = 0.0316228 -> 0.088594
    assert min_detectable_effect(0.2, 800, 200) == pytest.approx(0.088594, abs=1e-6)
    # alpha 0.10, power 0.9: 1.644854 + 1.281552 = 2.926405 -> * 0.0707107 = 0.206928
    assert min_detectable_effect(0.5, 100, 100, alpha=0.10, power=0.9) == pytest.approx(
        0.206928, abs=1e-6)
    assert math.isnan(min_detectable_effect(0.5, 0, 100))
    with pytest.raises(ValueError, match="p_base"):
        min_detectable_effect(1.5, 10, 10)


def test_min_detectable_mean_difference_by_hand():
    # a: variance 1, b: variance 4, 3 each: se = sqrt(1/3 + 4/3) = 1.290994 -> x 2.801585
    assert min_detectable_mean_difference([1, 2, 3], [4, 6, 8]) == pytest.approx(3.616831,
                                                                                  abs=1e-5)
    assert math.isnan(min_detectable_mean_difference([1], [1, 2]))
