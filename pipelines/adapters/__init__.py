"""Adapters: turn a lender's or a public data set's own export into ordinary landing files
(landing format v1, DOMAIN.md §7).

Why: the pipeline reads only the landing format, so a new source needs an adapter, never a
change to ingest. Product code (`overdue import`), not tooling.
"""

from pipelines.adapters.taiwan import ImportSummary, import_taiwan, pay_code_roll_rates

__all__ = ["ImportSummary", "import_taiwan", "pay_code_roll_rates"]
