"""The roll-rate matrix as a Markov chain: next months' bucket mix and losses, and a backtest.

States are the buckets M0..M6, WO and `closed` (DOMAIN §2). A matrix row also sends accounts to
`gone` (they leave the file): that mass leaves the book. New accounts arrive each month as the
latest matrix's `new` row did. The balance chain uses the balance shares of each row, so it
assumes an account keeps its balance as it moves (the matrices weigh rows by balance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models.buckets import BUCKETS

STATES = (*BUCKETS, "closed")
TO_STATES = (*STATES, "gone")
WO = STATES.index("WO")
# 30+ = at or beyond 31 DPD over the book without the written-off stock, as on page 1
# (pipelines/lib/definitions.py): M2..M6 over every state but WO
THIRTY_PLUS = [STATES.index(b) for b in ("M2", "M3", "M4", "M5", "M6")]
ON_BOOK = [i for i, state in enumerate(STATES) if state != "WO"]


def rate_30plus(vector: np.ndarray) -> float:
    """The 30+ share of a state vector's book (NaN for an empty book)."""
    total = vector[ON_BOOK].sum()
    return float(vector[THIRTY_PLUS].sum() / total) if total else float("nan")


@dataclass(frozen=True)
class RollMatrix:
    """One night's roll-rate matrix: counts (or balances) from state x to state, plus `new`."""

    night: date
    from_date: date
    accounts: np.ndarray  # len(STATES) x len(TO_STATES)
    balance: np.ndarray
    new_accounts: np.ndarray  # len(STATES): accounts that appeared, by state tonight
    new_balance: np.ndarray

    def state_accounts(self) -> np.ndarray:
        """Tonight's book by state: the column totals without `gone`."""
        return self.accounts[:, : len(STATES)].sum(axis=0) + self.new_accounts

    @property
    def priced(self) -> bool:
        """Whether the balances exist: on a night with a currency without an exchange rate the
        book's converted balances are null (roll_rates), and only the count chain is known."""
        return not (np.isnan(self.balance).any() or np.isnan(self.new_balance).any())

    def transition(self, weight: str = "accounts") -> np.ndarray:
        """Row-normalised shares; by balance, in the reporting currency at the night's rate.
        An unpriced matrix has no balance shares: the count shares stand in for them."""
        if weight == "accounts" or not self.priced:
            return transition_matrix(self.accounts)
        return transition_matrix(self.balance)


def matrices_from_rows(rows: pd.DataFrame) -> dict[date, RollMatrix]:
    """RollMatrix per night from roll_rates rows (snapshot_date, from_date, from_bucket,
    to_bucket, accounts, balance)."""
    result = {}
    for night, cells in rows.groupby("snapshot_date", sort=True):
        counts = np.zeros((len(STATES), len(TO_STATES)))
        balances = np.zeros_like(counts)
        new_counts = np.zeros(len(STATES))
        new_balances = np.zeros(len(STATES))
        for cell in cells.itertuples(index=False):
            if cell.to_bucket not in TO_STATES:
                continue
            j = TO_STATES.index(cell.to_bucket)
            if cell.from_bucket == "new":
                if j < len(STATES):
                    new_counts[j] += cell.accounts
                    new_balances[j] += _amount(cell.balance)
            elif cell.from_bucket in STATES:
                i = STATES.index(cell.from_bucket)
                counts[i, j] += cell.accounts
                balances[i, j] += _amount(cell.balance)
        night = pd.Timestamp(night).date()
        result[night] = RollMatrix(night, pd.Timestamp(cells["from_date"].iloc[0]).date(),
                                   counts, balances, new_counts, new_balances)
    return result


def _amount(value) -> float:
    """A cell's balance; NaN when null (a night with a currency without a rate)."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def transition_matrix(weights: np.ndarray) -> np.ndarray:
    """Rows normalised to 1 (STATES x TO_STATES). A state with no accounts in the matrix gets a
    stated default: current stays current, a delinquent bucket rolls one bucket forward (nobody
    paid), WO and closed stay where they are."""
    weights = np.asarray(weights, dtype=float)
    totals = weights.sum(axis=1, keepdims=True)
    matrix = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    for i, state in enumerate(STATES):
        if totals[i, 0] > 0:
            continue
        if state in ("M0", "WO", "closed"):
            matrix[i, i] = 1.0
        else:
            matrix[i, i + 1] = 1.0
    return matrix


@dataclass(frozen=True)
class Forecast:
    """Months 1..n after the start: the state vector and what newly reached WO that month."""

    states: list[np.ndarray]
    writeoffs: list[float]

    def rate_30plus(self, month: int) -> float:
        return rate_30plus(self.states[month - 1])


def forecast(start: np.ndarray, transition: np.ndarray, inflow: np.ndarray | None = None,
             months: int = 3) -> Forecast:
    """Chain the matrix: x(k+1) = x(k) P + new accounts, where P leaves out `gone`.

    Write-offs of a month are what flows into WO from every other state during it.
    """
    state = np.asarray(start, dtype=float)
    inflow = np.zeros(len(STATES)) if inflow is None else np.asarray(inflow, dtype=float)
    stay = transition[:, : len(STATES)]
    states, writeoffs = [], []
    for _ in range(months):
        flowing = state * stay[:, WO]
        writeoffs.append(float(flowing.sum() - flowing[WO]))
        state = state @ stay + inflow
        states.append(state)
    return Forecast(states, writeoffs)


def probability_of_writeoff(transition: np.ndarray, months: int) -> dict[str, float]:
    """Per bucket, the chain's probability of reaching WO within `months` (WO absorbing; accounts
    that close or leave never default)."""
    chain = transition[:, : len(STATES)].copy()
    chain[WO] = 0.0
    chain[WO, WO] = 1.0
    reached = np.linalg.matrix_power(chain, months)[:, WO]
    return {bucket: float(reached[STATES.index(bucket)]) for bucket in BUCKETS}


def monthly_writeoff_probabilities(transition: np.ndarray, months: int) -> dict[str, np.ndarray]:
    """Per bucket, the chain's probability of first reaching WO in month 1, 2, .. `months` (the
    marginal PDs a discounted ECL sums; their sum is `probability_of_writeoff` for `months`)."""
    chain = transition[:, : len(STATES)].copy()
    chain[WO] = 0.0
    chain[WO, WO] = 1.0
    reached = np.zeros((months + 1, len(STATES)))
    power = np.eye(len(STATES))
    for month in range(1, months + 1):
        power = power @ chain
        reached[month] = power[:, WO]
    marginal = np.diff(reached, axis=0)
    return {bucket: marginal[:, STATES.index(bucket)] for bucket in BUCKETS}


def month_chain(matrices: dict[date, RollMatrix], night: date) -> list[RollMatrix]:
    """The night's matrix and those of the nights it compares with, one month apart each,
    oldest first (following from_date while a matrix exists for it)."""
    chain = []
    current = matrices.get(night)
    while current is not None and current not in chain:
        chain.append(current)
        current = matrices.get(current.from_date)
    return chain[::-1]


def backtest(chain: list[RollMatrix], horizon: int = 3) -> pd.DataFrame:
    """Each earlier month's forecast (its own latest matrix and inflow) against what happened.

    Returns one row per (origin, months ahead): the forecast and actual 30+ rate by accounts and
    the accounts written off in that month (actual: the matrix's flow into WO).
    """
    rows = []
    for i, origin in enumerate(chain[:-1]):
        ahead = min(horizon, len(chain) - 1 - i)
        predicted = forecast(origin.state_accounts(), origin.transition("accounts"),
                             origin.new_accounts, ahead)
        for k in range(1, ahead + 1):
            actual = chain[i + k]
            actual_states = actual.state_accounts()
            actual_wo = float(actual.accounts[:, WO].sum() - actual.accounts[WO, WO])
            rows.append({
                "origin": origin.night, "months_ahead": k, "target": actual.night,
                "forecast_30plus": predicted.rate_30plus(k),
                "actual_30plus": rate_30plus(actual_states),
                "forecast_writeoffs": predicted.writeoffs[k - 1],
                "actual_writeoffs": actual_wo,
            })
    frame = pd.DataFrame(rows, columns=["origin", "months_ahead", "target", "forecast_30plus",
                                        "actual_30plus", "forecast_writeoffs", "actual_writeoffs"])
    frame["error_30plus"] = frame["forecast_30plus"] - frame["actual_30plus"]
    return frame
