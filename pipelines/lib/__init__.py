"""Plain-Python helpers for the code location: no Dagster definitions live here."""
