"""The retrain's warehouse side: the matured labels, the code commit and the data dictionary.

`models.retrain.retrain` takes frames and values; what it is given comes from here: labels read
from the warehouse as of the night, the checkout's commit for the model card, and the column
definitions of account_features (its SQL header) for the registry's feature list.
"""

from __future__ import annotations

import subprocess
from datetime import date

import duckdb

from models.config import ModelConfig
from models.registry import ModelRegistry
from models.retrain import RetrainResult, retrain
from pipelines import settings
from pipelines.lib.features.account_features import feature_dictionary
from pipelines.lib.model.dataset import matured_labels


def code_commit() -> dict:
    """The repository's commit and whether the working tree had changes (else 'unknown')."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=settings.REPO_ROOT, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def source_definitions() -> dict[str, str]:
    """{account_features column: definition}, as the registry writes them beside each feature."""
    return dict(feature_dictionary())


def retrain_night(conn: duckdb.DuckDBPyConnection, as_of: date, registry: ModelRegistry,
                  config: ModelConfig, *, by: str = "retrain") -> RetrainResult:
    """Retrain on the warehouse's matured labels as of `as_of` (see models.retrain.retrain).

    Raises:
        NotEnoughData: when no night has matured, or one side of the split would be empty.
    """
    return retrain(matured_labels(conn, as_of, config), as_of, registry, config,
                   code=code_commit(), source_definitions=source_definitions(), by=by)
