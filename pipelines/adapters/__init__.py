"""Importers: turn a public or partner data set into ordinary landing files (DOMAIN.md §7).

Why: the pipeline reads only the landing format, so a new source needs an importer, never a
change to ingest.
"""

from pipelines.adapters.taiwan import ImportSummary, import_taiwan, pay_code_roll_rates

__all__ = ["ImportSummary", "import_taiwan", "pay_code_roll_rates"]
