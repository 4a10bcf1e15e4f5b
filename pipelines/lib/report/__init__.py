"""The risk committee report (DOMAIN §6): figures, forecast, IFRS 9, charts, HTML and PDF.

This module stays light (no matplotlib, WeasyPrint or DuckDB import) so the CLI can list a
night's report files cheaply.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path


def report_dir(home: Path, night: date) -> Path:
    return Path(home) / "out" / "reports" / night.isoformat()


def file_name(language: str, edition: str, suffix: str) -> str:
    """`risk_report.<language>.<suffix>`, or `risk_report.month-end.<language>.<suffix>`."""
    return (f"risk_report.{language}.{suffix}" if edition == "nightly"
            else f"risk_report.{edition}.{language}.{suffix}")


def report_files(home: Path, night: date) -> list[Path]:
    """The night's report files that exist, HTML before PDF, nightly edition first: what
    `overdue demo` prints."""
    folder = report_dir(home, night)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("risk_report.*"),
                   key=lambda p: ("month-end" in p.name, p.suffix != ".html",
                                  ".en." in p.name, p.name))
    return [p for p in files if p.suffix in (".html", ".pdf")]
