"""The delinquency buckets (DOMAIN §1): the one place their names and their rule are written.

It sits on the lowest floor of the house, beside the model, so that the model, the stages above
it and the tooling all read the same vocabulary (`models/` imports nothing from above it). The SQL
side is the macro `bucket_of` in `sql/features/macros/`; a check proves the two agree on every
stored row.
"""

from __future__ import annotations

import numpy as np

# M0 current, M1 1-30 days past due, ..., M6 151-180, WO beyond 180 days or charged off
BUCKETS: tuple[str, ...] = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "WO")
WRITTEN_OFF = BUCKETS.index("WO")


def bucket_index(days_past_due: np.ndarray, charged_off: np.ndarray | None = None) -> np.ndarray:
    """Bucket codes 0..7 (M0..M6, WO) from days past due and the charged-off flag."""
    dpd = np.asarray(days_past_due)
    bucket = np.where(dpd <= 0, 0, np.minimum((dpd + 29) // 30, 6))
    bucket = np.where(dpd > 180, WRITTEN_OFF, bucket)
    if charged_off is not None:
        bucket = np.where(np.asarray(charged_off, dtype=bool), WRITTEN_OFF, bucket)
    return bucket.astype(np.int8)


def bucket_of(days_past_due: np.ndarray, charged_off: np.ndarray | None = None) -> np.ndarray:
    """Bucket names (M0 .. WO) from days past due and the charged-off flag."""
    return np.asarray(BUCKETS, dtype=object)[bucket_index(days_past_due, charged_off)]
