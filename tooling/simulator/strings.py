"""Arrow string building shared by the customers' text and the landing files: values picked from
small pools, pieces joined element-wise and zero-padded numbers, so no text is built row by row.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@cache
def _pool(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def _pick(pool: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return _pool(tuple(pool)).take(pa.array(index, pa.int64()))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")

