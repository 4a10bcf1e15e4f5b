"""The strategy's `agencies:` section: which buckets go to outside agencies, with whom, for how
long, what each placement file may hold, and the legal track's thresholds.

Validated on load (called from `strategy.load_strategy`), every error naming its key, so an
analyst editing the YAML can fix it; reaches SQL as small registered tables (values, never SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from models.buckets import BUCKETS

RECALL_REASONS = ("payment", "dispute", "complaint", "bankruptcy", "deceased")
# what a placement file may hold (besides placement_id): only what an agency needs to collect
PLACEMENT_FIELDS = ("account_reference", "debtor_name", "phone", "address", "amount_due",
                    "currency", "placed_date")
LEGAL_TRACKS = ("litigation", "arbitration", "payment_order")
SHARE_TOLERANCE = 1e-9


class AgencyStrategyError(ValueError):
    """A wrong `agencies:` section; the message names the key."""


@dataclass(frozen=True)
class AgencyStrategy:
    buckets: tuple[str, ...]
    seed: int
    rotation_days: int | None
    replace_after_days: int
    recall_on: tuple[str, ...]
    placement_fields: tuple[str, ...]
    # jurisdiction -> agency -> share (summing to 1)
    shares: dict[str, dict[str, float]]
    # jurisdiction -> {min_balance: {cur: x}, litigation_min_balance: {..}, contactable,
    # uncontactable, contact_lookback_days}
    legal: dict[str, dict]

    def shares_table(self) -> pa.Table:
        """One row per (jurisdiction, agency) with its share, agencies in name order (the
        order the SQL lays the shares' bands out in)."""
        rows = []
        for jurisdiction, agencies in sorted(self.shares.items()):
            for order, (agency, share) in enumerate(sorted(agencies.items())):
                rows.append({"jurisdiction": jurisdiction, "agency_id": agency,
                             "agency_order": order, "share": share})
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("jurisdiction", pa.string()), ("agency_id", pa.string()),
            ("agency_order", pa.int32()), ("share", pa.float64())]))

    def legal_table(self) -> pa.Table:
        """One row per (jurisdiction, currency) with the thresholds and the two tracks."""
        rows = []
        for jurisdiction, rule in sorted(self.legal.items()):
            for currency in sorted(rule["min_balance"]):
                rows.append({
                    "jurisdiction": jurisdiction, "currency": currency,
                    "min_balance": float(rule["min_balance"][currency]),
                    "litigation_min_balance": float(rule["litigation_min_balance"][currency]),
                    "contactable_track": rule["contactable"],
                    "uncontactable_track": rule["uncontactable"],
                    "contact_lookback_days": rule["contact_lookback_days"]})
        return pa.Table.from_pylist(rows, schema=pa.schema([
            ("jurisdiction", pa.string()), ("currency", pa.string()),
            ("min_balance", pa.float64()), ("litigation_min_balance", pa.float64()),
            ("contactable_track", pa.string()), ("uncontactable_track", pa.string()),
            ("contact_lookback_days", pa.int32())]))


def _fail(path: Path, key: str, message: str):
    raise AgencyStrategyError(f"{path.name}: agencies.{key}: {message}")


def _int(path: Path, value, key: str, allow_none: bool = False, low: int = 0) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        _fail(path, key, f"expected a whole number >= {low}{' or null' if allow_none else ''}, "
              f"got {value!r}")
    return value


def _list(path: Path, raw: dict, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        _fail(path, key, "expected a non-empty list")
    for item in value:
        if item not in allowed:
            _fail(path, key, f"{item!r} is not one of {', '.join(allowed)}")
    if len(set(value)) != len(value):
        _fail(path, key, "lists an entry twice")
    return tuple(value)


def _amounts(path: Path, value, key: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        _fail(path, key, "expected one amount per currency, e.g. {CNY: 2000, USD: 300}")
    for currency, amount in value.items():
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            _fail(path, key, f"{currency!r} is not an ISO 4217 currency code")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            _fail(path, f"{key}.{currency}", f"expected an amount >= 0, got {amount!r}")
    return dict(value)


def _legal(path: Path, raw, jurisdictions: set[str]) -> dict[str, dict]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        _fail(path, "legal", "expected a mapping of jurisdiction to thresholds")
    legal = {}
    keys = {"min_balance", "litigation_min_balance", "contactable", "uncontactable",
            "contact_lookback_days"}
    for code, rule in raw.items():
        where = f"legal.{code}"
        if code not in jurisdictions:
            _fail(path, where, f"{code!r} is not under jurisdictions")
        if not isinstance(rule, dict) or set(rule) != keys:
            _fail(path, where, f"expected exactly the keys {', '.join(sorted(keys))}")
        low = _amounts(path, rule["min_balance"], f"{where}.min_balance")
        high = _amounts(path, rule["litigation_min_balance"], f"{where}.litigation_min_balance")
        if set(low) != set(high):
            _fail(path, where, "min_balance and litigation_min_balance must name the same "
                  "currencies")
        for currency in low:
            if high[currency] < low[currency]:
                _fail(path, f"{where}.litigation_min_balance.{currency}",
                      "is below min_balance")
        for track in ("contactable", "uncontactable"):
            if rule[track] not in LEGAL_TRACKS:
                _fail(path, f"{where}.{track}", f"expected one of {', '.join(LEGAL_TRACKS)}")
        legal[code] = {**rule, "contact_lookback_days": _int(
            path, rule["contact_lookback_days"], f"{where}.contact_lookback_days", low=1)}
    return legal


def parse_agencies(path: Path, raw: dict | None, jurisdictions: set[str]) -> AgencyStrategy | None:
    """The validated `agencies:` section, or None when the strategy has none (nothing placed)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _fail(path, "(section)", "expected a mapping")
    allowed = {"buckets", "seed", "rotation_days", "replace_after_days", "recall_on",
               "placement_fields", "jurisdictions", "legal"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        _fail(path, unknown[0], f"unknown key (expected one of {', '.join(sorted(allowed))})")
    buckets = _list(path, raw, "buckets", tuple(BUCKETS))
    fields = raw.get("placement_fields")
    if isinstance(fields, list) and "id_number" in fields:
        _fail(path, "placement_fields", "id_number: the customers feed carries no ID number, "
              "so no placement file can hold one")
    fields = _list(path, raw, "placement_fields", PLACEMENT_FIELDS)
    rotation = _int(path, raw.get("rotation_days"), "rotation_days", allow_none=True, low=1)
    by_jurisdiction = raw.get("jurisdictions")
    if not isinstance(by_jurisdiction, dict) or not by_jurisdiction:
        _fail(path, "jurisdictions", "expected a mapping of jurisdiction to {shares: ...}")
    shares: dict[str, dict[str, float]] = {}
    for code, spec in by_jurisdiction.items():
        where = f"jurisdictions.{code}"
        if code not in jurisdictions:
            _fail(path, where, f"{code!r} is not under the strategy's jurisdictions")
        if not isinstance(spec, dict) or set(spec) != {"shares"} \
                or not isinstance(spec["shares"], dict) or not spec["shares"]:
            _fail(path, where, "expected {shares: {agency_id: share, ...}}")
        for agency, share in spec["shares"].items():
            if not isinstance(agency, str) or not agency or len(agency) > 64:
                _fail(path, f"{where}.shares", f"agency id {agency!r}: 1-64 characters")
            if isinstance(share, bool) or not isinstance(share, int | float) \
                    or not 0 < share <= 1:
                _fail(path, f"{where}.shares.{agency}", f"expected a share in (0, 1], got "
                      f"{share!r}")
        total = sum(spec["shares"].values())
        if abs(total - 1) > SHARE_TOLERANCE:
            _fail(path, f"{where}.shares", f"shares sum to {total:g}, expected 1")
        if rotation is not None and len(spec["shares"]) < 2:
            _fail(path, f"{where}.shares", "rotation_days is set, so rotation needs a second "
                  "agency to move the account to")
        shares[code] = {str(a): float(s) for a, s in spec["shares"].items()}
    return AgencyStrategy(
        buckets=buckets, seed=_int(path, raw.get("seed", 0), "seed"), rotation_days=rotation,
        replace_after_days=_int(path, raw.get("replace_after_days", 30), "replace_after_days"),
        recall_on=_list(path, raw, "recall_on", RECALL_REASONS), placement_fields=fields,
        shares=shares, legal=_legal(path, raw.get("legal"), jurisdictions))
