"""Does a champion/challenger experiment find the true lift? A study over seeds.

For each seed a simulated book runs ``nights`` nights with an experiment on 20% of customers
(customer-level, stable: ``treatments.arm_of``). Champion: the strategy's soft notice for
delinquent accounts (sms + e-mail, T1); challenger: the early-high treatment (sms + a daily call,
T2). The book's payments follow each account's potential outcome under the treatment it got
(``tooling/simulator/treatments.py``). The measured lift is computed the way the pipeline's
``experiment_results`` defines it: the unit is an account's first night in a tier during the
experiment, cured when it is back to M0 (or closed) on one of the 30 nights after; the interval is
``experiment_stats.rate_difference`` (challenger minus champion, Newcombe). The true lift is the
mean over the matured cohort of each account's P(cure within 30 days | challenger) - P(... |
champion), from the same probability functions the book samples (exact but for the drift of
latent risk over the 30 nights, a dispute or freeze starting within them, and a second payment
after a non-curing one on the last day or two).

For speed the study runs the simulator's book without writing files or running the pipeline:
the treatment a delinquent account gets is the arm's treatment, as the pipeline would plan it.
Only fresh delinquencies (one missed instalment, no tier the night before) enter, so accounts
already delinquent on the first night are left out: their cure needs a full repayment of several
instalments, which the truth does not follow.

    python -m tooling.experiment_study --seeds 20 --nights 90 --world effect
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from pipelines.lib.collections.experiment_stats import Interval, rate_difference
from tooling.simulator.accounts import _Book
from tooling.simulator.behaviour import _CLOSED, _day
from tooling.simulator.potential import WINDOW, cure_probability_30d
from tooling.simulator.treatments import (
    TreatmentWorld,
    arm_of,
    channel_mask,
    hardship_flags,
)

EXPERIMENT_ID = "sim_daily_call"
CHAMPION = channel_mask(["sms", "email"])    # T1 soft_notice
CHALLENGER = channel_mask(["sms", "phone"])  # T2 early_high


@dataclass(frozen=True)
class SeedResult:
    """One seed's experiment: cohort per arm, cures, complaints, true and measured lift."""

    seed: int
    n_champion: int
    cured_champion: int
    n_challenger: int
    cured_challenger: int
    true_lift: float
    true_champion: float
    true_challenger: float
    complaints_champion: int
    complaints_challenger: int
    interval: Interval

    @property
    def covered(self) -> bool:
        return self.interval.contains(self.true_lift)


@dataclass(frozen=True)
class Cohort:
    """Per account of the book: entry night (-1: never entered), cured within the window, arm,
    hardship, the true cure probability under each arm's treatment, complaints."""

    entered: np.ndarray
    cured: np.ndarray
    challenger: np.ndarray
    hardship: np.ndarray
    p_champion: np.ndarray
    p_challenger: np.ndarray
    complaints: np.ndarray
    matured: np.ndarray


def simulate_experiment(seed: int, *, nights: int = 90, accounts: int = 50_000,
                        world: str = "effect", effect_size: float = 1.0,
                        challenger_share: float = 0.2,
                        end_date: date = date(2026, 11, 30)) -> Cohort:
    """Run the book with the experiment: every delinquent account gets its arm's treatment."""
    potential = TreatmentWorld(world, effect_size)
    start = end_date - timedelta(days=nights - 1)
    with ThreadPoolExecutor(1) as pool:
        book = _Book(accounts, start, end_date, seed, None, 0.5, pool)
        book.initialise_state()
    hardship = hardship_flags(book.z, seed)
    challenger_customer = np.array([
        arm_of(seed, EXPERIMENT_ID, f"CU{c + 1:07d}", challenger_share) == "challenger"
        for c in range(book.n_customers)], bool)
    challenger = challenger_customer[book.customer]
    hard = hardship[book.customer]
    arm_mask = np.where(challenger, CHALLENGER, CHAMPION)
    factor = potential.cure_multiplier(arm_mask, hard)
    complaint = potential.complaint_probability(arm_mask, hard)
    rng = np.random.default_rng([seed, 30_030])

    n = book.n_accounts
    entered = np.full(n, -1)
    seen = np.zeros(n, bool)       # in a tier on some night of the experiment
    cured = np.zeros(n, bool)
    p_champion, p_challenger = np.zeros(n), np.zeros(n)
    complaints = np.zeros(n, np.int64)
    treated = np.zeros(n, bool)
    all_idx = np.arange(n)
    for number in range(nights):
        night = start + timedelta(days=number)
        t = _day(night)
        book.treatment_multiplier = np.where(treated, factor, 1.0)
        book.step(night)
        complaints += (treated & (rng.random(n) < complaint)).astype(np.int64)
        delinquent = book.active() & (book.n_arrears > 0) & (book.days_past_due(all_idx, t) <= 60)
        open_entry = (entered >= 0) & ~cured & (t - entered <= WINDOW)
        back = (book.n_arrears == 0) | (book.status == _CLOSED)
        cured |= open_entry & back & (t > entered)
        fresh = np.flatnonzero(delinquent & ~seen & (book.n_arrears == 1) & (number > 0))
        seen |= delinquent
        if len(fresh):
            entered[fresh] = t
            for mask, target in ((CHAMPION, p_champion), (CHALLENGER, p_challenger)):
                target[fresh] = cure_probability_30d(
                    book, fresh, t,
                    potential.cure_multiplier(np.full(len(fresh), mask), hard[fresh]))
        treated = delinquent
    matured = (entered >= 0) & (entered + WINDOW <= _day(end_date))
    return Cohort(entered, cured, challenger, hard, p_champion, p_challenger, complaints, matured)


def run_seed(seed: int, **settings) -> SeedResult:
    """One simulated experiment summarised: cohort per arm, measured and true lift."""
    c = simulate_experiment(seed, **settings)
    a, b = c.matured & ~c.challenger, c.matured & c.challenger
    interval = rate_difference(int(c.cured[a].sum()), int(a.sum()), int(c.cured[b].sum()),
                               int(b.sum()))
    lift = c.p_challenger[c.matured] - c.p_champion[c.matured]
    return SeedResult(seed, int(a.sum()), int(c.cured[a].sum()), int(b.sum()),
                      int(c.cured[b].sum()), float(lift.mean()) if c.matured.any() else math.nan,
                      float(c.p_champion[c.matured].mean()),
                      float(c.p_challenger[c.matured].mean()),
                      int(c.complaints[a].sum()), int(c.complaints[b].sum()), interval)


def format_table(results: list[SeedResult], world: str) -> str:
    """The per-seed table and the coverage lines."""
    lines = [f"world {world}",
             ("seed  n_champ  n_chall  cure_champ  cure_chall  true_lift  measured  "
             "95% interval           covered  verdict")]
    for r in results:
        verdict = "significant" if r.interval.significant else "no significant difference"
        lines.append(
            f"{r.seed:>4}  {r.n_champion:>7}  {r.n_challenger:>7}  "
            f"{r.cured_champion / max(r.n_champion, 1):>10.3f}  "
            f"{r.cured_challenger / max(r.n_challenger, 1):>10.3f}  {r.true_lift:>+9.4f}  "
            f"{r.interval.estimate:>+8.4f}  [{r.interval.low:+.4f}, {r.interval.high:+.4f}]  "
            f"{'yes' if r.covered else 'NO':>7}  {verdict}")
    covered = sum(r.covered for r in results)
    quiet = sum(not r.interval.significant for r in results)
    lines.append(f"coverage: {covered}/{len(results)} seeds' 95% interval holds the true lift "
                 f"({covered / len(results):.0%}; target >= 90%)")
    lines.append(f"no significant difference: {quiet}/{len(results)} seeds "
                 f"({quiet / len(results):.0%}" + ("; target >= 95% in this world)" if world == "none"
                                                   else ")"))
    return "\n".join(lines)


STUDY_COLUMNS = ("world", "seed", "n_champion", "cured_champion", "n_challenger",
                 "cured_challenger", "true_champion", "true_challenger", "true_lift",
                 "measured_lift", "low", "high", "covered", "significant",
                 "complaints_champion", "complaints_challenger")


def write_study(path: Path, results: list[SeedResult], world: str) -> Path:
    """The per-seed truth and measurement as CSV, for a later comparison or a note."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STUDY_COLUMNS)
        for r in results:
            writer.writerow([world, r.seed, r.n_champion, r.cured_champion, r.n_challenger,
                             r.cured_challenger, f"{r.true_champion:.6f}",
                             f"{r.true_challenger:.6f}", f"{r.true_lift:.6f}",
                             f"{r.interval.estimate:.6f}", f"{r.interval.low:.6f}",
                             f"{r.interval.high:.6f}", r.covered, r.interval.significant,
                             r.complaints_champion, r.complaints_challenger])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.experiment_study",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--world", choices=("effect", "none"), default="effect")
    parser.add_argument("--effect-size", type=float, default=1.0)
    parser.add_argument("--challenger-share", type=float, default=0.2)
    parser.add_argument("--out", type=Path, help="also write the per-seed rows to this CSV")
    args = parser.parse_args(argv)
    if args.nights <= WINDOW:
        parser.error(f"--nights must exceed the {WINDOW}-night cure window")
    began = time.perf_counter()
    results = [run_seed(seed, nights=args.nights, accounts=args.accounts, world=args.world,
                        effect_size=args.effect_size, challenger_share=args.challenger_share)
               for seed in range(args.first_seed, args.first_seed + args.seeds)]
    sys.stdout.write(format_table(results, args.world) + "\n")
    if args.out:
        write_study(args.out, results, args.world)
    sys.stdout.write(f"{time.perf_counter() - began:.0f} s for {args.seeds} seeds of "
                     f"{args.accounts} accounts x {args.nights} nights\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
