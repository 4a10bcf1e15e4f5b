"""The truth behind each night: the probability that an account's bucket one month later is
worse than tonight's, computed from the same probability functions the book samples from (the
module docstring of ``tooling.simulator`` lists the few approximations). The call/promise boost is
followed exactly with a small Markov chain, per delinquent account and, for current accounts,
through survival tables cached over risk and contact rate.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from models.buckets import bucket_index
from tooling.simulator.behaviour import (
    _BOOST_CONNECTED,
    _BOOST_DAYS,
    _BOOST_PROMISE,
    _BUCKET_EVENT,
    _CALL_ATTEMPT,
    _CHARGED_OFF,
    _CURE_SHARE,
    _EVENT_CAP,
    _FROZEN,
    _OPEN,
    _PROMISE_SHARE,
    _day,
    _event_hazard,
    _miss_probabilities,
    one_month_later,
)

if TYPE_CHECKING:
    from tooling.simulator.accounts import _Book

_H_GRID = np.geomspace(2e-5, 1.0, 61)  # survival table axes for current accounts: hazard ...
_Q_GRID = np.linspace(0.0, 1.0, 11)    # ... and daily contact rate

# Boost-chain states: 0 = no boost; 1..7 = days left after a connected call; 8..14 = with promise.
_CHAIN_STATES = 1 + 2 * _BOOST_DAYS


def _boost_chain(base: np.ndarray, called: np.ndarray, initial_state: np.ndarray) -> np.ndarray:
    """Probability of no payment event through each day, exact over future calls and promises.

    Args:
        base: (n, days) daily event probability without boost (0 once charged off).
        called: (n, days) probability that the day's calls connect.
        initial_state: (n,) chain state at the start of the first day.

    Returns:
        (n, days + 1) survival; column 0 is 1.
    """
    n, days = base.shape
    state = np.zeros((n, _CHAIN_STATES))
    state[np.arange(n), initial_state] = 1.0
    survival = np.ones((n, days + 1))
    boosted = slice(1, 1 + _BOOST_DAYS)
    promised = slice(1 + _BOOST_DAYS, _CHAIN_STATES)
    for j in range(days):
        probability = base[:, j]
        state[:, 0] *= 1 - np.minimum(probability, _EVENT_CAP)
        state[:, boosted] *= (1 - np.minimum(probability * _BOOST_CONNECTED, _EVENT_CAP))[:, None]
        state[:, promised] *= (1 - np.minimum(probability * _BOOST_PROMISE, _EVENT_CAP))[:, None]
        alive = state.sum(axis=1)
        survival[:, j + 1] = alive
        connect = called[:, j]
        # a day passes: boosts count down, and today's connected call starts a new 7-day boost
        expiring = state[:, 0] + state[:, 1] + state[:, 1 + _BOOST_DAYS]
        state[:, 1:_BOOST_DAYS] = state[:, 2:1 + _BOOST_DAYS]
        state[:, 1 + _BOOST_DAYS:-1] = state[:, 2 + _BOOST_DAYS:]
        state[:, 0] = expiring
        state *= (1 - connect)[:, None]
        state[:, _BOOST_DAYS] = alive * connect * (1 - _PROMISE_SHARE)
        state[:, -1] = alive * connect * _PROMISE_SHARE
    return survival


class _Truth:
    """Reads the book tonight and never changes it; keeps the survival tables between nights."""

    def __init__(self, book: _Book):
        self.book = book
        self._survival_cache: dict[bytes, np.ndarray] = {}

    def _survival_tables(self, t: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Survival after a miss on each day of the window, over the (hazard, contact) grid.

        Returns the stacked tables (paths, H, Q, 32) and, per miss day offset, its path index.
        """
        book = self.book
        path_of_offset = np.zeros(horizon, np.int64)
        tables, keys = [], {}
        days = np.arange(1, 32)
        bucket = bucket_index(days)
        for offset in range(horizon):
            multipliers = np.asarray(book.date_multiplier(t + offset + days), float)
            key = multipliers.tobytes()
            if key not in keys:
                if key not in self._survival_cache:
                    h = _H_GRID[:, None, None] * np.ones((1, len(_Q_GRID), 1))
                    q = _Q_GRID[None, :, None] * np.ones((len(_H_GRID), 1, 1))
                    base = (h * (multipliers * _BUCKET_EVENT[bucket])[None, None, :]).reshape(-1, 31)
                    called = (q * _CALL_ATTEMPT[bucket][None, None, :]).reshape(-1, 31)
                    survival = _boost_chain(base, called, np.zeros(len(base), np.int64))
                    self._survival_cache[key] = survival.reshape(len(_H_GRID), len(_Q_GRID), 32)
                keys[key] = len(tables)
                tables.append(self._survival_cache[key])
            path_of_offset[offset] = keys[key]
        return np.stack(tables), path_of_offset

    @staticmethod
    def _lookup(tables: np.ndarray, path: np.ndarray, hazard: np.ndarray, contact: np.ndarray,
                days: np.ndarray) -> np.ndarray:
        """Bilinear interpolation of the survival tables in log-hazard and contact rate."""
        log_h = np.log(_H_GRID)
        x = np.clip((np.log(np.maximum(hazard, _H_GRID[0])) - log_h[0]) / (log_h[1] - log_h[0]),
                    0, len(_H_GRID) - 1 - 1e-9)
        y = np.clip(contact / (_Q_GRID[1] - _Q_GRID[0]), 0, len(_Q_GRID) - 1 - 1e-9)
        i, j = x.astype(np.int64), y.astype(np.int64)
        wx, wy = x - i, y - j
        width = tables.shape[3]
        row = width * len(_Q_GRID)
        flat = tables.reshape(-1)
        corner = ((path * len(_H_GRID) + i) * len(_Q_GRID) + j) * width + np.clip(days, 0, width - 1)
        return ((1 - wx) * ((1 - wy) * flat[corner] + wy * flat[corner + width])
                + wx * ((1 - wy) * flat[corner + row] + wy * flat[corner + row + width]))

    def roll_forward(self, idx: np.ndarray, night: date) -> tuple[np.ndarray, np.ndarray]:
        """P(bucket one month later is worse than tonight's) for the given accounts, and buckets."""
        book = self.book
        t = _day(night)
        horizon = _day(one_month_later(night)) - t
        later = t + horizon
        status = book.status[idx]
        probability = np.zeros(len(idx))
        risk = book.risk(idx)
        delinquent_mask = ((status == _OPEN) | (status == _FROZEN)) & (book.n_arrears[idx] > 0)
        current_mask = ((status == _OPEN) | (status == _FROZEN)) & (book.n_arrears[idx] == 0)
        hazard = _event_hazard(risk, book.account_multiplier(idx))
        contact = book.contact_rate(idx, t)

        rows = np.flatnonzero(delinquent_mask)
        if len(rows):
            acc = idx[rows]
            dpd0 = t - book.arrears_due[acc, 0]
            steps = np.arange(1, horizon + 1)
            dpd = dpd0[:, None] + steps[None, :]
            bucket = bucket_index(dpd)
            alive = dpd <= 181
            base = (hazard[rows][:, None] * book.date_multiplier(t + steps)[None, :]
                    * _BUCKET_EVENT[bucket] * alive)
            called = np.where(dpd <= 180, _CALL_ATTEMPT[bucket], 0.0) * contact[rows][:, None]
            left = np.clip(book.boost_until[acc] - t, 0, _BOOST_DAYS)
            state = np.where(left > 0, left + np.where(book.boost_promise[acc], _BOOST_DAYS, 0), 0)
            survival = _boost_chain(base, called, state)
            final = survival[:, horizon]
            now = bucket_index(dpd0)
            worse_unpaid = bucket_index(dpd0 + horizon) > now
            value = np.where(worse_unpaid, final, 0.0)
            two = book.n_arrears[acc] >= 2
            worse_after_oldest = bucket_index(later - book.arrears_due[acc, 1]) > now
            events = survival[:, :-1] - survival[:, 1:]
            after = final[:, None] / np.maximum(survival[:, 1:], 1e-300)
            single_oldest = (1 - _CURE_SHARE) * (events * after).sum(axis=1)
            value += np.where(two & worse_after_oldest, single_oldest, 0.0)
            probability[rows] = value

        rows = np.flatnonzero(current_mask)
        if len(rows):
            acc = idx[rows]
            tables, path_of_offset = self._survival_tables(t, horizon)
            due = book.cycle_due[acc]
            owed = book.amount_due[acc]
            pending = (due >= t) & (owed > 0)
            window = np.maximum(due - book.cycle_start[acc], 1)
            q = np.clip((due - t) / window, 0, 1)
            p_none, p_partial = book.cycle_p_none[acc], book.cycle_p_partial[acc]
            numerator = p_none + p_partial * q
            denominator = p_none + (1 - p_none) * q
            miss_a = np.where(denominator > 0, numerator / np.maximum(denominator, 1e-300), 1.0)
            miss_a = np.where(book.cycle_pay_done[acc], 1.0, miss_a)
            miss_a = np.where(pending, miss_a, 0.0)
            survive_a = np.zeros(len(acc))
            some = np.flatnonzero(miss_a > 0)
            survive_a[some] = self._lookup(
                tables, path_of_offset[np.clip(due[some] - t, 0, horizon - 1)], hazard[rows[some]],
                contact[rows[some]], later - due[some])
            # the next statement's cycle, if its due date falls inside the month
            mi = int(book.month_index(t))
            this_statement = book.month_start[mi] + book.statement_day[acc] - 1
            statement_b = np.where(this_statement > t, this_statement,
                                   book.month_start[mi + 1] + book.statement_day[acc] - 1)
            due_b = statement_b + book.due_offset[acc]
            miss_b = np.zeros(len(acc))
            survive_b = np.zeros(len(acc))
            inside = np.flatnonzero(due_b <= later - 1)
            if len(inside):
                one, row = acc[inside], rows[inside]
                revolving = ~book.installment[one]
                balance = book.balance[one]
                utilisation = np.where(revolving, balance / np.maximum(book.credit_limit[one], 1),
                                       0.4)
                early = (statement_b[inside] - book.open_day[one]) < 95
                b_none, b_partial = _miss_probabilities(risk[row], utilisation, early,
                                                        book.shock(statement_b[inside]))
                spend_by_then = 1 - (1 - np.minimum(book.spend_probability[one], 0.95)) ** \
                    np.maximum(statement_b[inside] - t, 0)
                will_owe = np.where(
                    revolving,
                    np.where(balance > 0, 1.0, np.where(status[row] == _OPEN, spend_by_then, 0.0)),
                    (balance - book.past_due[one] - owed[inside] > 0).astype(float))
                miss_b[inside] = (b_none + b_partial) * will_owe
                some = inside[miss_b[inside] > 0]
                survive_b[some] = self._lookup(
                    tables, path_of_offset[np.clip(due_b[some] - t, 0, horizon - 1)],
                    hazard[rows[some]], contact[rows[some]], later - due_b[some])
            probability[rows] = 1 - (1 - miss_a * survive_a) * (1 - miss_b * survive_b)

        charged_off = status == _CHARGED_OFF
        dpd = book.days_past_due(idx, t)
        return np.clip(probability, 0.0, 1.0), bucket_index(dpd, charged_off)
