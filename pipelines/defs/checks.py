"""SQL checks as Dagster asset checks: one builder for every stage.

A check is a query in `sql/checks/` that returns the offending rows; it passes on none. The result
carries how many offended, a sample of ten (aggregates and keys only: no check selects a personal
data column) and the file, so an analyst in the UI can rerun it.
"""

import dagster as dg

from pipelines.lib.sql import sql_path
from pipelines.lib.warehouse import offending_rows


def sql_check_result(conn, check_name: str, sql_name: str, params: dict, *,
                     description: str | None = None, count_key: str = "offending_rows",
                     asset_key: str | None = None, **context) -> dg.AssetCheckResult:
    """Run `sql/checks/<sql_name>.sql` as the blocking check `check_name` (of `asset_key`, for an
    asset that is one of several made by the same step)."""
    offending = offending_rows(conn, sql_name, params, **context)
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=offending.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            count_key: len(offending),
            "sample": dg.MetadataValue.md(offending.head(10).to_markdown(index=False))
            if not offending.empty else "none",
            "sql": sql_path(f"checks/{sql_name}"),
        },
    )
