"""What `overdue demo` prints about the last night's letter batch: counts and paths only."""

import csv
import json
from datetime import date
from pathlib import Path


def letters_summary(home: Path, night: date) -> str:
    """The batch of `night` under `home/out/letters/`: counts, held by rule, one zh-CN and one
    en-US print PDF (file and first page) to open by eye. No personal data."""
    root = home / "out" / "letters"
    folder = next((p for p in (root / str(night), root / f"{night}.blocked") if p.is_dir()), None)
    if folder is None:
        return f"letters: no batch for {night} under {root}"
    counts = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    lines = [
        f"letters       {folder}" + ("  (BLOCKED: a template failed the linter for every "
                                     "contact)" if counts["blocked"] else ""),
        f"  contacts {counts['contacts']}, released {counts['released']}, held {counts['held']}",
        "  by channel: " + ", ".join(f"{k} {v}" for k, v in sorted(counts["by_channel"].items())),
        "  held by rule: " + (", ".join(f"{k} {v}" for k, v in counts["held_by_rule"].items())
                              or "none") + f"  (details: {folder / 'held.csv'})",
    ]
    index = folder / "print" / "index.csv"
    if index.exists():
        seen = {}
        for row in csv.DictReader(index.open(encoding="utf-8")):
            seen.setdefault(row["locale"], row)
        for locale in ("zh-CN", "en-US"):
            if locale in seen:
                row = seen[locale]
                lines.append(f"  print {locale}: {folder / 'print' / row['file']} "
                             f"(page {row['first_page']}, letter {row['letter_id']})")
            else:
                lines.append(f"  print {locale}: none tonight")
    return "\n".join(lines)
