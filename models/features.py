"""The model's inputs: which account_features columns, how they are encoded, and which never.

Why a spec rather than "every numeric column": each model feature needs a definition for the
registry, a known risk direction (or none) for the monotone constraints, and a source column so
reason codes speak about `roll_state`, not about one of its one-hot indicators. And the list is
checked against protected attributes before any booster sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.buckets import BUCKETS

BUCKET_RANK = {bucket: rank for rank, bucket in enumerate(BUCKETS)}  # as the bucket_rank macro
ROLL_STATES = ("new", "closed", "stayed", "cured", "rolled_forward", "rolled_back")

# Protected attributes (DOMAIN.md §3): matched on whole name tokens, so "age" catches
# customer_age or age_band but not percentage or mortgage.
PROTECTED_PATTERNS = (
    r"sex", r"gender", r"marital", r"married", r"spouse", r"ethnic\w*", r"race", r"racial",
    r"religio\w*", r"faith", r"caste", r"age", r"ages", r"aged", r"birth\w*", r"dob",
    r"date_of_birth", r"year_of_birth",
)
_PROTECTED = re.compile(r"(?:^|_)(?:" + "|".join(PROTECTED_PATTERNS) + r")(?:_|$)")


class ProtectedAttributeError(ValueError):
    """A protected attribute was offered as a model feature."""


def protected_features(names: Iterable[str]) -> list[str]:
    """The names that look like a protected attribute (sex, marital status, ethnicity, ...)."""
    return [name for name in names if _PROTECTED.search(name.lower())]


def assert_no_protected_attributes(names: Iterable[str]) -> None:
    """Raise before a protected attribute can reach a model, whatever the input carries.

    Raises:
        ProtectedAttributeError: naming every offending feature.
    """
    offending = protected_features(names)
    if offending:
        raise ProtectedAttributeError(
            f"protected attributes may never be model features: {', '.join(offending)}")


@dataclass(frozen=True)
class Feature:
    """One model feature.

    Attributes:
        name: the column the booster sees.
        source: the account_features column it comes from (reason codes group by it).
        monotone: +1 risk never falls as it grows, -1 never rises, 0 no constraint.
        encoding: "numeric", "bucket_rank", "flag" (a boolean) or "one_hot:<value>".
        definition: what it means; the source column's definition is added from the SQL header.
        lookback_days: how far before the night its value reaches (sql/features/
            account_features.sql): a night is whole for it only when the book holds a snapshot
            at least this many days earlier; 0 when it is read from tonight's row alone.
    """

    name: str
    source: str
    monotone: int = 0
    encoding: str = "numeric"
    definition: str = ""
    lookback_days: int = 0


# One month ago is read up to 3 days before one_month_earlier(night): 31 + 3 days at most.
MONTH_AGO_DAYS = 34


def _numeric(name: str, monotone: int = 0, lookback_days: int | None = None) -> Feature:
    """A numeric feature; its look-back is the N of a name ending in _Nd unless given."""
    if lookback_days is None:
        window = re.search(r"_(\d+)d$", name)
        lookback_days = int(window.group(1)) if window else 0
    return Feature(name, name, monotone, lookback_days=lookback_days)


# Monotone only where the direction is known: more (or more recent) delinquency -> more risk.
FEATURES: tuple[Feature, ...] = (
    Feature("bucket_rank", "bucket", +1, "bucket_rank",
            "tonight's bucket as a number: M0=0, M1=1 ... M6=6"),
    _numeric("days_past_due", +1),
    _numeric("max_dpd_30d", +1),
    _numeric("max_dpd_90d", +1),
    _numeric("max_dpd_180d", +1),
    _numeric("times_30plus_180d", +1),
    _numeric("times_60plus_180d", +1),
    _numeric("days_since_delinquent", -1, lookback_days=180),  # within 180 days
    _numeric("on_time_cycles", -1, lookback_days=180),  # 6 cycles of 30 clean days
    _numeric("cures_180d"),
    Feature("bucket_1m_ago_rank", "bucket_1m_ago", 0, "bucket_rank",
            "bucket one month ago as a number (M0=0 ... WO=7); missing when none",
            MONTH_AGO_DAYS),
    *(Feature(f"roll_state_{state}", "roll_state", 0, f"one_hot:{state}",
              f"1 when roll_state is {state}, else 0", MONTH_AGO_DAYS) for state in ROLL_STATES),
    _numeric("balance"),
    _numeric("credit_limit"),
    _numeric("past_due_amount"),
    _numeric("utilisation"),
    _numeric("past_due_ratio"),
    _numeric("payment_ratio", lookback_days=MONTH_AGO_DAYS),
    _numeric("days_since_last_payment"),
    _numeric("days_until_due"),
    _numeric("amount_due_ratio"),
    _numeric("balance_change_30d"),
    _numeric("balance_change_90d"),
    _numeric("utilisation_change_30d"),
    _numeric("utilisation_change_90d"),
    _numeric("limit_changes_180d"),
    _numeric("months_on_book"),
    _numeric("annual_interest_rate"),  # priced by underwriting grade where the lender does
    _numeric("other_accounts_max_dpd_180d", +1, lookback_days=180),
    Feature("open_dispute", "open_dispute", 0, "flag", "1 when a dispute is open, else 0", 180),
    _numeric("broken_promises_90d", +1),
    _numeric("complaints_90d"),
    # who will cure: missed due dates, part-payments and whether collectors reach the customer
    _numeric("delinquency_entries_180d", +1),
    _numeric("partial_payments_90d"),
    _numeric("call_attempts_30d"),
    _numeric("calls_connected_30d"),
    _numeric("call_connect_rate_180d"),
    _numeric("days_since_connected_call", lookback_days=180),
    Feature("promise_pending", "promise_pending", 0, "flag",
            "1 when a promise to pay made within 30 days is not yet due, else 0", 30),
    *(Feature(name, name, 0, "flag", f"1 when {what} within 180 days, else 0", 180)
      for name, what in (("customer_deceased", "the customer is reported deceased"),
                         ("customer_bankrupt", "the customer is reported bankrupt"),
                         ("do_not_contact", "the customer asked not to be contacted"),
                         ("phone_opt_out", "the customer opted out of phone calls"))),
    _numeric("unemployment_rate", lookback_days=MONTH_AGO_DAYS),  # the latest month's figure
    _numeric("cpi_yoy", lookback_days=MONTH_AGO_DAYS),
    _numeric("bureau_score", -1, lookback_days=180),  # the latest score within 180 days
    Feature("product_installment", "product", 0, "one_hot:installment",
            "1 when the product is installment, else 0"),
    Feature("status_frozen", "status", 0, "one_hot:frozen", "1 when the status is frozen, else 0"),
    Feature("status_closed", "status", 0, "one_hot:closed", "1 when the status is closed, else 0"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
SOURCE_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(feature.source for feature in FEATURES))
assert_no_protected_attributes(FEATURE_NAMES + SOURCE_COLUMNS)


def feature_by_name(names: Iterable[str] = FEATURE_NAMES) -> dict[str, Feature]:
    """The spec of each named feature; unknown names are an error, not a silent zero."""
    known = {feature.name: feature for feature in FEATURES}
    missing = [name for name in names if name not in known]
    if missing:
        raise KeyError(f"no feature spec for {missing}")
    return {name: known[name] for name in names}


def lookback_days(names: Iterable[str] = FEATURE_NAMES) -> dict[str, int]:
    """{feature: days of history before the night its value needs}."""
    return {name: feature.lookback_days for name, feature in feature_by_name(names).items()}


def days_of_history(frame: pd.DataFrame, first_snapshot) -> np.ndarray | None:
    """Days from the book's first snapshot to each row's night (None when the first is unknown)."""
    if first_snapshot is None:
        return None
    if "snapshot_date" not in frame.columns:
        raise KeyError("snapshot_date is needed to tell a partial look-back from a whole one")
    nights = pd.to_datetime(frame["snapshot_date"])
    return (nights - pd.Timestamp(first_snapshot)).dt.days.to_numpy()


def partial_lookbacks(frame: pd.DataFrame, names: Iterable[str] = FEATURE_NAMES,
                      first_snapshot=None) -> dict[str, np.ndarray]:
    """{feature: rows whose night is fewer than its look-back days after the first snapshot}.

    Only features with a partial row are listed. Such a value was computed over a shorter window
    than its name says (a 90-day maximum over the book's first 40 days), so it is not the
    feature the model means.
    """
    history = days_of_history(frame, first_snapshot)
    if history is None:
        return {}
    partial = {}
    for name, days in lookback_days(names).items():
        rows = history < days
        if days > 0 and rows.any():
            partial[name] = rows
    return partial


def uninformative_features(frame: pd.DataFrame, names: Iterable[str] = FEATURE_NAMES,
                           first_snapshot=None) -> dict[str, str]:
    """{feature: why} for the features null on every row of `frame`, or one value on every row.

    Why: a booster never splits on such a column, yet it would sit in the feature list, the
    reason codes and the PSI table ("0.0000 stable" for a feed that never arrived). Judged on
    the training rows, whatever the feature's name. A value-or-null column is kept: missing is
    a branch the booster can take.
    """
    names = list(names)
    return uninformative_columns(feature_array(frame, names, first_snapshot=first_snapshot),
                                 names, partial_lookbacks(frame, names, first_snapshot),
                                 first_snapshot)


def uninformative_columns(matrix: np.ndarray, names: list[str], partial: dict[str, np.ndarray],
                          first_snapshot=None) -> dict[str, str]:
    """uninformative_features on an encoded matrix (float64, one column per name) and its
    partial look-back rows (partial_lookbacks)."""
    dropped = {}
    for position, name in enumerate(names):
        column = matrix[:, position]
        known = column[~np.isnan(column)]
        if len(known) == 0 and name in partial and partial[name].all():
            dropped[name] = (f"look-back of {lookback_days([name])[name]} days reaches before "
                             f"the book's first snapshot ({pd.Timestamp(first_snapshot).date()}) "
                             f"on every one of the {len(column):,} training rows")
        elif len(known) == 0:
            dropped[name] = f"null on every one of the {len(column):,} training rows"
        elif len(known) == len(column) and np.all(known == known[0]):
            dropped[name] = f"{known[0]:g} on every one of the {len(column):,} training rows"
    return dropped


def feature_definitions(source_definitions: Mapping[str, str],
                        names: Iterable[str] = FEATURE_NAMES) -> list[dict]:
    """The feature list with definitions, as the registry stores it beside the model.

    `source_definitions` is {account_features column: definition}: the data dictionary, which the
    warehouse side owns (the SQL header), so it is handed in rather than read here.
    """
    rows = []
    for name, feature in feature_by_name(names).items():
        source_definition = source_definitions.get(feature.source, "")
        rows.append({
            "name": name,
            "source": feature.source,
            "encoding": feature.encoding,
            "monotone": feature.monotone,
            "definition": feature.definition or source_definition,
            "source_definition": source_definition,
            "lookback_days": feature.lookback_days,
        })
    return rows


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def _numbers(series: pd.Series) -> np.ndarray:
    """Float values with NaN for null, whatever pandas dtype DuckDB handed over."""
    if series.dtype == np.float64:
        return series.to_numpy()
    if not (pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype)):
        series = pd.to_numeric(series, errors="coerce")
    return series.to_numpy(dtype="float64", na_value=np.nan)


def _bucket_ranks(series: pd.Series) -> np.ndarray:
    """BUCKET_RANK of each value, NaN for null or unknown (via category codes: 1M rows in ms)."""
    codes = pd.Categorical(series, categories=list(BUCKET_RANK)).codes
    ranks = np.asarray(list(BUCKET_RANK.values()), dtype="float64")
    return np.where(codes >= 0, ranks[codes], np.nan)


def feature_array(frame: pd.DataFrame, names: Iterable[str] = FEATURE_NAMES,
                  dtype: str = "float64", first_snapshot=None) -> np.ndarray:
    """The encoded features of `frame` (account_features rows): one row per row, one column per
    name, NaN = missing. float32 is what XGBoost computes in, so the booster gets that.

    A column the frame lacks (an older warehouse, a feed not delivered) becomes all-missing
    instead of failing: XGBoost never splits on it and reason codes never name it. Given the
    book's first snapshot, a feature is missing on the rows where its look-back is partial
    (partial_lookbacks): training, validation, monitoring and scoring all come through here, so
    the model never learns, nor is fed, a 30-day change as if it were a 90-day one.
    """
    names = list(names)
    assert_no_protected_attributes(names)
    out = np.empty((len(frame), len(names)), dtype=dtype)
    for position, (name, feature) in enumerate(feature_by_name(names).items()):
        source = _column(frame, feature.source)
        if feature.encoding == "bucket_rank":
            values = _bucket_ranks(source)
        elif feature.encoding.startswith("one_hot:"):
            category = feature.encoding.split(":", 1)[1]
            known = source.notna().to_numpy()
            values = np.where(known, (source == category).to_numpy(dtype=bool, na_value=False),
                              np.nan)
        else:  # numeric, or a flag (a boolean as 0/1)
            values = _numbers(source)
        out[:, position] = values
    for name, rows in partial_lookbacks(frame, names, first_snapshot).items():
        out[rows, names.index(name)] = np.nan
    return out


def feature_matrix(frame: pd.DataFrame, names: Iterable[str] = FEATURE_NAMES,
                   first_snapshot=None) -> pd.DataFrame:
    """feature_array as a DataFrame (float64, the frame's index): for PSI and inspection."""
    names = list(names)
    return pd.DataFrame(feature_array(frame, names, first_snapshot=first_snapshot),
                        columns=names, index=frame.index)
