"""The population stability index, and the training-window bins it is measured against.

Why a module of its own: the bins are made when a model is trained and kept with it (the
registry's reference.json); monitoring compares each night's book with them. Training, evaluation
and monitoring all read them, so none of those owns them.
"""

from __future__ import annotations

import math

import numpy as np

PSI_STABLE, PSI_ACT = 0.10, 0.25  # DOMAIN.md §3: < 0.1 stable, 0.1-0.25 watch, > 0.25 act
NO_DATA = "no_data"  # a side with no value at all: nothing to compare, never "stable"
_SHARE_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite


def weighted_quantiles(values: np.ndarray, quantiles: np.ndarray,
                       weights: np.ndarray | None = None) -> np.ndarray:
    """Quantiles of the (weighted) values, by the inverse of the weighted empirical CDF."""
    order = np.argsort(values, kind="stable")
    values = values[order]
    weights = np.ones(len(values)) if weights is None else np.asarray(weights)[order]
    cumulative = np.cumsum(weights) / weights.sum()
    index = np.searchsorted(cumulative, quantiles, side="left")
    return values[np.minimum(index, len(values) - 1)]


def bin_edges(expected: np.ndarray, bins: int = 10, weights: np.ndarray | None = None) -> list:
    """Interior edges of `bins` equal-share bins of `expected` (fewer when values repeat).

    A value holding at least one bin's share (0 days past due, bucket M0) gets a bin of its
    own: the next value above it is an edge too. Without that, a book 95 % current puts every
    row in one bin and the PSI of days past due is 0 whatever happens to the other 5 %.
    """
    expected = np.asarray(expected, dtype="float64")
    known = ~np.isnan(expected)
    if not known.any():
        return []
    values = expected[known]
    weights = np.ones(len(values)) if weights is None else np.asarray(
        weights, dtype="float64")[known]
    edges = np.unique(weighted_quantiles(values, np.arange(1, bins) / bins, weights))
    total = weights.sum()
    extra = []
    for edge in edges:
        if weights[values == edge].sum() >= total / bins:
            above = values[values > edge]
            if len(above):
                extra.append(above.min())
    return [float(edge) for edge in np.unique(np.concatenate([edges, extra]))]


def bin_counts(values: np.ndarray, edges: list, weights: np.ndarray | None = None) -> np.ndarray:
    """Weight of the values in each bin (below the first edge ... at or above the last) and, last,
    the weight missing: a feature that starts arriving null is a shift too. Counts add up, so a
    night too large for memory can be binned a chunk at a time."""
    values = np.asarray(values, dtype="float64")
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype="float64")
    index = np.searchsorted(np.asarray(edges, dtype="float64"), values, side="right")
    index[np.isnan(values)] = len(edges) + 1
    return np.bincount(index, weights, minlength=len(edges) + 2)


def shares_of(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def bin_shares(values: np.ndarray, edges: list, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of the values in each bin; see bin_counts."""
    return shares_of(bin_counts(values, edges, weights))


def psi_from_shares(expected_shares: np.ndarray, actual_shares: np.ndarray) -> float:
    """Σ (actual − expected) · ln(actual / expected), empty bins floored at 0.01 %."""
    expected_shares = np.maximum(np.asarray(expected_shares, dtype="float64"), _SHARE_FLOOR)
    actual_shares = np.maximum(np.asarray(actual_shares, dtype="float64"), _SHARE_FLOOR)
    return float(((actual_shares - expected_shares)
                  * np.log(actual_shares / expected_shares)).sum())


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of `actual` against `expected`, on `expected`'s deciles.

    Missing values form their own bin. Identical samples give 0; > 0.25 means act; NaN (no
    data) when either side has no non-missing value.
    """
    edges = bin_edges(np.asarray(expected, dtype="float64"), bins)
    return psi_or_no_data(bin_shares(expected, edges), bin_counts(actual, edges))


def has_values(shares) -> bool:
    """Whether bin shares (or counts), the missing bin last, hold any non-missing weight."""
    shares = np.asarray(shares, dtype="float64")
    return bool(len(shares) > 1 and shares[:-1].sum() > 0)


def psi_or_no_data(expected_shares, actual_counts) -> float:
    """PSI, or NaN ("no data") when either side is empty or null on every row.

    Why: two all-null sides have identical shares (everything in the missing bin), PSI 0, which
    read "stable" for a feed that never arrived.
    """
    if not (has_values(expected_shares) and has_values(actual_counts)):
        return float("nan")
    return psi_from_shares(np.asarray(expected_shares, dtype="float64"),
                           shares_of(np.asarray(actual_counts, dtype="float64")))


def psi_status(value: float) -> str:
    """stable (< 0.1), watch (0.1-0.25), act (> 0.25), or no_data (NaN: see psi_or_no_data)."""
    if math.isnan(value):
        return NO_DATA
    if value < PSI_STABLE:
        return "stable"
    return "watch" if value <= PSI_ACT else "act"


def reference_distribution(values: np.ndarray, weights: np.ndarray | None = None,
                           bins: int = 10) -> dict:
    """Bin edges and shares of a training-window sample, kept with the model for later PSI.

    Why bins, not rows: the registry holds no account-level data, and the monitoring job needs
    only the training window's shape.
    """
    edges = bin_edges(values, bins, weights)
    return {"edges": edges, "shares": [float(s) for s in bin_shares(values, edges, weights)]}
