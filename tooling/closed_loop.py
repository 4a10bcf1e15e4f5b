"""The closed loop: the simulated book and the real pipeline, night by night.

Why it exists: an experiment's lift is only worth something if the book reacts to what the
pipeline planned. For each night N the loop writes the outcomes of the batch released on N-1
(``tooling/simulator/outcomes.py``: receipts in ``landing/contact_outcomes/``, the calls'
dispositions in the collectors' filled work list, ``landing/work_list_outcomes/``), lets the book live night N under the treatment each account
got (its potential outcome, ``tooling/simulator/treatments.py``; a promise boosts its cure
probability as a promise on a call does in the book), writes night N's landing files and truth,
and runs the real pipeline for N (``pipelines.cli.run_nights``). An optional ``--warmup`` writes
the first nights with no pipeline plan and loads them in one backfill run.

    python -m tooling.closed_loop --accounts 300 --nights 90 --seed 1 --world effect
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from tooling.simulator import _without_huge_pages
from tooling.simulator.accounts import _Book
from tooling.simulator.behaviour import _BOOST_DAYS, _day
from tooling.simulator.fx import usd_cny_path, write_fx_rates
from tooling.simulator.outcomes import write_outcomes
from tooling.simulator.potential import cure_probability_30d
from tooling.simulator.treatments import TreatmentWorld, channel_mask, hardship_flags, mask_text
from tooling.simulator.truth import _Truth
from tooling.simulator.writing import FEEDS, _Writer

log = logging.getLogger("overdue")


@dataclass(frozen=True)
class LoopNight:
    """One night of the loop: what was written and how long the pipeline took."""

    night: date
    outcomes: int
    by_outcome: dict[str, int]
    simulate_seconds: float
    pipeline_seconds: float


def closed_loop(home: Path, *, accounts: int = 300, nights: int = 90, seed: int = 1,
                world: str = "effect", effect_size: float = 1.0, warmup: int = 0,
                end_date: date | None = None, groups: list[str] | None = None,
                work_list_back: bool = True, run=None) -> list[LoopNight]:
    """Simulate and run ``warmup + nights`` nights, the last ``nights`` in the closed loop.

    ``run(start, end, groups)`` runs the pipeline (default ``pipelines.cli.run_nights``; groups
    None: every asset); the partitions start on the first night (``OVERDUE_START_DATE`` is set to
    it unless already set earlier).
    """
    from pipelines.cli import run_nights
    from pipelines.lib.collections.strategy import STRATEGY_PATH

    run = run or run_nights
    potential = TreatmentWorld(world, effect_size)
    total = warmup + nights
    end_date = end_date or (date.today() - timedelta(days=1))
    start = end_date - timedelta(days=total - 1)
    if os.environ.get("OVERDUE_START_DATE", "9999") > start.isoformat():
        os.environ["OVERDUE_START_DATE"] = start.isoformat()
    home = Path(home)
    for feed in (*FEEDS, "contact_outcomes", *(("work_list_outcomes",) if work_list_back else ())):
        (home / "landing" / feed).mkdir(parents=True, exist_ok=True)
    (home / "truth").mkdir(parents=True, exist_ok=True)
    usd_cny = usd_cny_path(start, total, seed)
    rng = np.random.default_rng([seed, 19_190])
    done: list[LoopNight] = []
    with _without_huge_pages(), ThreadPoolExecutor(2, thread_name_prefix="loop") as pool:
        book = _Book(accounts, start, end_date, seed, None, 0.5, pool)
        writer = _Writer(book, _Truth(book), home, "csv", pool)
        book.initialise_state()
        hardship = hardship_flags(book.z, seed)
        connect = np.asarray(book.connect, float)
        for number in range(total):
            night = start + timedelta(days=number)
            began = time.perf_counter()
            outcomes = None
            if number >= max(warmup, 1):
                outcomes = write_outcomes(
                    home, night - timedelta(days=1), night, seed=seed, world=potential,
                    hardship=hardship, customer_of=book.customer, connect=connect,
                    strategy_path=STRATEGY_PATH, rng=rng, work_list_back=work_list_back)
                _apply(book, outcomes, potential, hardship, _day(night))
            book.step(night)
            book.treatment_multiplier[:] = 1.0
            writer.write_night(night)
            write_treatment_truth(home, book, night, potential, hardship, outcomes,
                                  strategy_treatments(STRATEGY_PATH))
            write_fx_rates(home, night, float(usd_cny[number]), "csv")
            simulated = time.perf_counter() - began
            if number + 1 < warmup:
                continue
            began = time.perf_counter()
            run(start if number + 1 == warmup else night, night, groups)
            ran = time.perf_counter() - began
            if number + 1 == warmup:
                continue
            done.append(LoopNight(night, outcomes.rows if outcomes else 0,
                                  outcomes.by_outcome if outcomes else {}, simulated, ran))
            log.info("closed loop %s: %d outcomes, %.1f s simulate, %.1f s pipeline", night,
                     done[-1].outcomes, simulated, ran)
    return done


def strategy_treatments(strategy_path: Path) -> dict[str, int]:
    """Treatment name -> the channel mask of its contacts, as the strategy file defines them."""
    strategy = yaml.safe_load(strategy_path.read_text(encoding="utf-8"))
    return {t["name"]: channel_mask(c["channel"] for c in t.get("contacts", ()))
            for t in strategy["treatments"].values()}


def write_treatment_truth(home: Path, book: _Book, night: date, potential: TreatmentWorld,
                          hardship: np.ndarray, outcomes, treatments: dict[str, int]) -> Path:
    """``truth/treatments/<night>.parquet``: per delinquent account tonight, whether it is a
    hardship case, the channels it got from last night's batch, and its true probability of
    being back to M0 within 30 nights under each strategy treatment (``p_cure_30d_<name>``) and
    untreated: what a study needs to state the true lift of any arm's treatment against another's.
    """
    t = _day(night)
    acc = np.flatnonzero(book.active() & (book.n_arrears > 0))
    hard = hardship[book.customer[acc]]
    got = np.array([outcomes.treated.get(int(i), 0) if outcomes else 0 for i in acc], np.int64)
    columns = {
        "snapshot_date": pa.array([night] * len(acc), pa.date32()),
        "account_id": [f"AC{i + 1:08d}" for i in acc],
        "hardship": pa.array(hard, pa.bool_()),
        "channels_got": [mask_text(m) for m in got],
        "cure_multiplier_got": potential.cure_multiplier(got, hard),
        "p_cure_30d_untreated": cure_probability_30d(book, acc, t, np.ones(len(acc))),
    }
    for name, mask in treatments.items():
        columns[f"p_cure_30d_{name}"] = cure_probability_30d(
            book, acc, t, potential.cure_multiplier(np.full(len(acc), mask), hard))
    path = home / "truth" / "treatments" / f"{night.isoformat()}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def _apply(book: _Book, outcomes, potential: TreatmentWorld, hardship: np.ndarray,
           t: int) -> None:
    """Tonight's payments follow last night's treatment; a promise boosts like a call's."""
    if not outcomes.treated:
        return
    idx = np.array(sorted(outcomes.treated), np.int64)
    mask = np.array([outcomes.treated[i] for i in idx], np.int64)
    book.treatment_multiplier[idx] = potential.cure_multiplier(mask, hardship[book.customer[idx]])
    talked = np.array(sorted(outcomes.connected), np.int64)
    if len(talked):
        book.boost_until[talked] = t - 1 + _BOOST_DAYS
        book.boost_promise[talked] = np.isin(talked, np.array(sorted(outcomes.promised), np.int64))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.closed_loop",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="default $OVERDUE_HOME")
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--warmup", type=int, default=0,
                        help="nights simulated before the loop, loaded in one backfill run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--world", choices=("effect", "none"), default="effect")
    parser.add_argument("--effect-size", type=float, default=1.0)
    parser.add_argument("--groups", nargs="*", help="asset groups to run, default all")
    parser.add_argument("--calls-in-feed", action="store_true",
                        help="send call dispositions in the outcomes feed (source work_list) "
                        "instead of the collectors' filled work list (landing/work_list_outcomes/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from pipelines import settings

    home = Path(args.home or settings.overdue_home())
    nights = closed_loop(home, accounts=args.accounts, nights=args.nights, seed=args.seed,
                         world=args.world, effect_size=args.effect_size, warmup=args.warmup,
                         groups=args.groups or None, work_list_back=not args.calls_in_feed)
    seconds = [n.pipeline_seconds + n.simulate_seconds for n in nights]
    totals: dict[str, int] = {}
    for n in nights:
        for k, v in n.by_outcome.items():
            totals[k] = totals.get(k, 0) + v
    sys.stdout.write(json.dumps({
        "accounts": args.accounts, "nights": len(nights),
        "seconds_per_night": round(sum(seconds) / max(len(seconds), 1), 2),
        "pipeline_seconds_per_night": round(
            sum(n.pipeline_seconds for n in nights) / max(len(nights), 1), 2),
        "outcomes": dict(sorted(totals.items()))}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
