"""Strategy experiments (champion/challenger): pre-registered files, arm strategies, arms in
tiering and planning.

An experiment file (`pipelines/config/experiments/<id>.yaml`, directory overridable with
`OVERDUE_EXPERIMENTS_DIR`) is what starts one: without a hypothesis, a metric, a sample size and
an end date there is no experiment. Each arm other than the champion is the champion strategy
with the arm's `changes` deep-merged onto it (mappings merge key by key, a list or a value
replaces the champion's), validated by the strategy's own validator. Customers are assigned by
a seeded hash, so an arm never depends on the order customers arrive in or on other experiments.
Plain Python over a connection; no Dagster here.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from pipelines import settings
from pipelines.lib.collections.rendering import template_versions
from pipelines.lib.collections.strategy import Strategy, StrategyError, load_strategy
from pipelines.lib.sql import render_sql
from pipelines.lib.warehouse import run_sql, table_exists, transaction

EXPERIMENTS_DIR = settings.REPO_ROOT / "pipelines" / "config" / "experiments"
METRICS = ("cure_30d", "roll_forward_30d", "amount_collected_30d")
SECONDARY_METRICS = METRICS + ("contacts_per_cure", "complaints_per_1000")
STATUSES = ("draft", "running", "stopped")
ARMS = ("challenger", "holdout")
# What an arm may change: who gets which treatment and what a treatment's contacts are. Letters'
# lenders, jurisdictions' rules and caps, queues and credit lines are the same for every arm.
OVERLAY_KEYS = ("tiers", "treatments", "high_risk", "suppressions")
# Letters the law requires before the account moves on: the final notice before write-off
# (DOMAIN §5), and the letter a jurisdiction renders as the Regulation F validation notice. No arm
# may take them away from a bucket the champion sends them in.
REQUIRED_LETTERS = ("final_notice",)
REQUIRED_OVERRIDES = ("validation_notice",)
ARM_COLUMNS = (("experiment_id", "varchar"), ("arm", "varchar"))


_LOADED: dict[tuple, tuple] = {}


class ExperimentError(ValueError):
    """An experiment file is invalid or conflicts with another; the message names file and key."""


@dataclass(frozen=True)
class Experiment:
    id: str
    path: Path
    hypothesis: str
    metric: str
    secondary_metrics: tuple[str, ...]
    sample_size: int
    start_date: date
    end_date: date
    seed: int
    status: str
    shares: dict[str, float]
    arm_strategies: dict[str, Strategy] = field(repr=False)
    # arm -> nights after each tier entry before the arm's first contact (a delayed treatment)
    delays: dict[str, int] = field(default_factory=dict)

    def covers(self, night: date) -> bool:
        return self.start_date <= night <= self.end_date

    def variant(self, arm: str) -> str:
        return f"{self.id}:{arm}"


def experiments_dir() -> Path:
    return settings.experiments_dir()


def _fail(path: Path, key: str, message: str):
    raise ExperimentError(f"{path.name}: {key}: {message}")


def deep_merge(base: dict, changes: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _date(path: Path, raw: dict, key: str) -> date:
    value = raw.get(key)
    if value is None:
        _fail(path, key, "missing (a pre-registered experiment states it)")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            _fail(path, key, f"expected a date YYYY-MM-DD, got {value!r}")
    if not isinstance(value, date):
        _fail(path, key, f"expected a date YYYY-MM-DD, got {value!r}")
    return value


def _required_contacts(strategy: Strategy) -> dict[tuple[str, str], str]:
    """(channel, template) -> what the law calls it."""
    required = {("letter", t): t for t in REQUIRED_LETTERS}
    for code, jurisdiction in sorted(strategy.jurisdictions.items()):
        for source, target in jurisdiction.template_overrides.items():
            if target in REQUIRED_OVERRIDES and "/" in source:
                channel, template = source.split("/", 1)
                required[(channel, template)] = f"the {code} {target}"
    return required


def _sends(strategy: Strategy) -> dict[str, set[tuple[str, str]]]:
    """Treatment key -> its (channel, template) contacts."""
    sends: dict[str, set[tuple[str, str]]] = {}
    for contact in strategy.contacts:
        sends.setdefault(contact.tier, set()).add((contact.channel, contact.template))
    return sends


def _rule_treatment(rule: dict) -> str:
    return rule.get("treatment", rule["tier"])


def required_treatments(strategy: Strategy) -> list[str]:
    """Names of the treatments that send a letter the law requires: never delayed."""
    names = _required_contacts(strategy)
    keys = {key for key, sends in _sends(strategy).items() if sends & set(names)}
    return sorted({strategy.treatment_names[k] for k in keys}) or [""]


def _check_required_contacts(path: Path, key: str, champion: Strategy, arm: Strategy) -> None:
    """A treatment the arm still uses keeps the required letters the champion's had, and a
    bucket every champion rule sends one to is sent it by every arm rule for it."""
    names = _required_contacts(champion)
    old, new = _sends(champion), _sends(arm)
    used = {_rule_treatment(r) for r in arm.tier_rules}

    def fail(contact, where):
        name = names[contact]
        what = "" if name == contact[1] else f" ({name})"
        _fail(path, key, f"removes the {contact[0]} {contact[1]}{what} {where}: the law "
              "requires it (DOMAIN §5), no arm may leave it out")

    for treatment in sorted(used & set(old)):
        for contact in sorted(old[treatment] & set(names)):
            if contact not in new.get(treatment, set()):
                fail(contact, f"from treatments.{treatment}")
    buckets = sorted({b for r in champion.tier_rules for b in r["buckets"]})
    for bucket in buckets:
        rules = [r for r in champion.tier_rules if bucket in r["buckets"]]
        always = set(names).intersection(*(old.get(_rule_treatment(r), set()) for r in rules))
        arm_rules = [r for r in arm.tier_rules if bucket in r["buckets"]]
        for contact in sorted(always):
            if not arm_rules or any(contact not in new.get(_rule_treatment(r), set())
                                    for r in arm_rules):
                fail(contact, f"for bucket {bucket}")


def _arm_strategy(path: Path, exp_id: str, arm: str, changes, champion: Strategy) -> Strategy:
    key = f"arms.{arm}.changes"
    if not isinstance(changes, dict):
        _fail(path, key, f"expected a mapping of strategy keys, got {changes!r}")
    for name in changes:
        if name not in OVERLAY_KEYS:
            _fail(path, f"{key}.{name}", f"an arm may change only {', '.join(OVERLAY_KEYS)}")
    raw = deep_merge(champion.raw, changes)
    raw["version"] = f"{champion.raw['version']}~{exp_id}.{arm}"
    with tempfile.TemporaryDirectory() as folder:
        merged = Path(folder) / f"{path.stem}.{arm}.yaml"
        merged.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                          encoding="utf-8")
        try:
            strategy = load_strategy(merged)
        except StrategyError as error:
            raise ExperimentError(f"{path.name}: {key}: the arm's strategy is invalid: "
                                  f"{error}") from error
    _check_required_contacts(path, key, champion, strategy)
    try:
        strategy.contacts_table(template_versions())
    except StrategyError as error:
        raise ExperimentError(f"{path.name}: {key}: {error}") from error
    return strategy


def load_experiment(path: Path, champion: Strategy) -> Experiment:
    """One experiment file, validated against the champion strategy; raises ExperimentError."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ExperimentError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ExperimentError(f"{path.name}: expected a mapping at the top level")
    allowed = {"id", "hypothesis", "metric", "secondary_metrics", "arms", "sample_size",
               "start_date", "end_date", "seed", "status"}
    for key in raw:
        if key not in allowed:
            _fail(path, key, f"unknown key (expected {', '.join(sorted(allowed))})")
    exp_id = raw.get("id")
    if not isinstance(exp_id, str) or not exp_id.replace("_", "").replace("-", "").isalnum():
        _fail(path, "id", f"expected a name of letters, digits, - and _, got {exp_id!r}")
    if exp_id != path.stem:
        _fail(path, "id", f"{exp_id!r} differs from the file's name {path.stem!r}")
    hypothesis = raw.get("hypothesis")
    if not isinstance(hypothesis, str) or not hypothesis.strip():
        _fail(path, "hypothesis", "missing (a pre-registered experiment states it)")
    metric = raw.get("metric")
    if metric is None:
        _fail(path, "metric", "missing (a pre-registered experiment states it)")
    if metric not in METRICS:
        _fail(path, "metric", f"expected one of {', '.join(METRICS)}, got {metric!r}")
    secondary = raw.get("secondary_metrics") or []
    for i, name in enumerate(secondary):
        if name not in SECONDARY_METRICS:
            _fail(path, f"secondary_metrics[{i}]",
                  f"expected one of {', '.join(SECONDARY_METRICS)}, got {name!r}")
    sample_size = raw.get("sample_size")
    if sample_size is None:
        _fail(path, "sample_size", "missing (a pre-registered experiment states it)")
    if not isinstance(sample_size, int) or isinstance(sample_size, bool) or sample_size < 1:
        _fail(path, "sample_size", f"expected a whole number of accounts >= 1, got "
              f"{sample_size!r}")
    start, end = _date(path, raw, "start_date"), _date(path, raw, "end_date")
    if end < start:
        _fail(path, "end_date", f"{end} is before start_date {start}")
    seed = raw.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        _fail(path, "seed", f"expected a whole number, got {seed!r}")
    status = raw.get("status")
    if status not in STATUSES:
        _fail(path, "status", f"expected one of {', '.join(STATUSES)}, got {status!r}")
    arms = raw.get("arms")
    if not isinstance(arms, dict) or "challenger" not in arms:
        _fail(path, "arms.challenger", "missing (the treatment the experiment tests)")
    shares, strategies, delays = {}, {}, {}
    for arm, spec in arms.items():
        where = f"arms.{arm}"
        if arm not in ARMS:
            _fail(path, where, f"unknown arm (expected {', '.join(ARMS)}; the champion is "
                  "everyone else)")
        if not isinstance(spec, dict) or set(spec) - {"share", "changes", "delay_days"}:
            _fail(path, where, f"expected share, changes and delay_days, got {spec!r}")
        delay = spec.get("delay_days")
        if delay is not None:
            if not isinstance(delay, int) or isinstance(delay, bool) or delay < 1:
                _fail(path, f"{where}.delay_days", f"expected a whole number of nights >= 1, "
                      f"got {delay!r}")
            delays[arm] = delay
        share = spec.get("share")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share < 1:
            _fail(path, f"{where}.share", f"expected a share between 0 and 1, got {share!r}")
        shares[arm] = float(share)
        strategies[arm] = _arm_strategy(path, exp_id, arm, spec.get("changes", {}), champion)
    if sum(shares.values()) > 1:
        _fail(path, "arms", f"the shares sum to {sum(shares.values()):g}, over 1")
    return Experiment(exp_id, path, hypothesis.strip(), metric, tuple(secondary), sample_size,
                      start, end, seed, status, shares, strategies, delays)


def load_experiments(champion: Strategy, folder: Path | None = None) -> tuple[Experiment, ...]:
    """Every experiment file in the folder; refuses two running experiments whose dates overlap
    (both would hold the same customers: every experiment samples the whole book)."""
    folder = Path(folder or experiments_dir())
    if not folder.is_dir():
        return ()
    paths = sorted(folder.glob("*.yaml"))
    # tiering and every night's planning ask again: the same files against the same champion
    # give the same experiments
    key = (str(folder.resolve()), champion.version, str(champion.path),
           tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths))
    if key in _LOADED:
        return _LOADED[key]
    found = tuple(load_experiment(p, champion) for p in paths)
    running = [e for e in found if e.status == "running"]
    for i, one in enumerate(running):
        for other in running[i + 1:]:
            if one.start_date <= other.end_date and other.start_date <= one.end_date:
                _fail(other.path, "status", f"running on the same customers as {one.path.name} "
                      f"(their dates overlap: {one.start_date}..{one.end_date}); stop one first")
    _LOADED.clear()
    _LOADED[key] = found
    return found


def running(champion: Strategy) -> tuple[Experiment, ...]:
    return tuple(e for e in load_experiments(champion) if e.status == "running")


# ------------------------------------------------------------------ warehouse
def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """experiment_assignments, and the arm columns of collection_tiers and contact_history for
    a warehouse from before experiments (older rows: null, outside any experiment)."""
    conn.execute(render_sql("experiments/create_experiment_assignments"))
    for table in ("collection_tiers", "contact_history"):
        if not table_exists(conn, table):
            continue
        present = {row[0] for row in
                   run_sql(conn, "shared/table_columns", {"table_name": table}).fetchall()}
        for column, column_type in ARM_COLUMNS:
            if column not in present:
                run_sql(conn, "shared/add_column", table=table, column=column,
                        column_type=column_type)


def contacts_table(champion: Strategy, versions: dict, experiments=None) -> pa.Table:
    """The champion's treatment contacts (variant null) and every running experiment arm's
    (variant <experiment>:<arm>): planning joins a tier row to its own arm's contacts."""
    experiments = running(champion) if experiments is None else experiments
    parts = [champion.contacts_table(versions)]
    variants = [None]
    for experiment in experiments:
        for arm, strategy in experiment.arm_strategies.items():
            parts.append(strategy.contacts_table(versions))
            variants.append(experiment.variant(arm))
    tables = [t.append_column("variant", pa.array([v] * len(t), pa.string()))
              for t, v in zip(parts, variants, strict=True)]
    return pa.concat_tables(tables, promote_options="default")


def assign_arms(conn: duckdb.DuckDBPyConnection, experiment: Experiment, start: date,
                end: date) -> None:
    """Customers of collection_tiers' nights start..end not yet assigned get their arm; an
    assignment, once made, is kept (its first night too)."""
    run_sql(conn, "experiments/assign_arms", {
        "experiment_id": experiment.id, "seed": str(experiment.seed),
        "holdout_share": experiment.shares.get("holdout", 0.0),
        "challenger_share": experiment.shares["challenger"],
        "start_date": start, "end_date": end})


def _register_tier_rules(conn: duckdb.DuckDBPyConnection, strategy: Strategy) -> None:
    conn.register("tier_rules", strategy.tier_rules_table())
    conn.register("high_risk_rules", strategy.high_risk_table())
    conn.register("suppression_rules", strategy.suppression_table())
    conn.register("jurisdiction_rules", strategy.jurisdictions_table())


def apply_to_tiers(conn: duckdb.DuckDBPyConnection, champion: Strategy, start: date,
                   end: date, tier_query: Callable[[date, date], str]) -> None:
    """After the champion tiered nights start..end: each running experiment's customers are
    assigned, the accounts of a challenger or holdout arm re-tiered with the arm's strategy
    (over the whole book, so ranks within a bucket stay the book's), and every row of an
    experiment's nights records its experiment and arm."""
    ensure_tables(conn)
    experiments = running(champion)
    for experiment in experiments:
        first, last = max(start, experiment.start_date), min(end, experiment.end_date)
        if first > last:
            continue
        with transaction(conn):
            assign_arms(conn, experiment, first, last)
            for arm, strategy in experiment.arm_strategies.items():
                _register_tier_rules(conn, strategy)
                params = {"start_date": first, "end_date": last,
                          "strategy_version": strategy.version,
                          "experiment_id": experiment.id, "arm": arm,
                          **settings.tier_settings()}
                tiers = tier_query(first, last)
                run_sql(conn, "experiments/arm_tiers", params, query=tiers)
                run_sql(conn, "experiments/delete_arm_tiers", params)
                run_sql(conn, "experiments/insert_arm_tiers", params)
                if arm in experiment.delays:
                    run_sql(conn, "experiments/delay_arm_contacts", params | {
                        "delay_days": experiment.delays[arm],
                        "required_treatments": required_treatments(strategy)})
            run_sql(conn, "experiments/tag_tiers", {"experiment_id": experiment.id,
                                                    "start_date": first, "end_date": last})
    if experiments:
        _register_tier_rules(conn, champion)


def tag_contacts(conn: duckdb.DuckDBPyConnection, night: date) -> None:
    """The night's planned contacts take their tier row's experiment and arm."""
    run_sql(conn, "experiments/tag_contacts", {"night": night})
