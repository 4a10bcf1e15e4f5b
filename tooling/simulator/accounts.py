"""The accounts and their daily life: the book as numpy arrays (terms, balances, arrears, cycle
decisions, customer flags), how it is opened and seasoned to the eve of the first night, and one
day of spending, statements, payments, missed due dates, cures, charge-offs, closures and contacts,
in the order a lender's day happens. Amounts are integer cents.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import numpy as np

from models.buckets import bucket_index
from tooling.simulator.behaviour import (
    _ACCOUNT_RISK_SD,
    _BANKRUPT_EVENT,
    _BOOK_GROWTH,
    _BOOST_CONNECTED,
    _BOOST_PROMISE,
    _BUCKET_EVENT,
    _CHARGED_OFF,
    _CLOSE_RATE,
    _CLOSED,
    _CURE_SHARE,
    _DECEASED_EVENT,
    _DROP_AFTER_DAYS,
    _EVENT_CAP,
    _EVENT_SHOCK,
    _FLOOR_CENTS,
    _FREEZE_RATE,
    _FROZEN,
    _GONE,
    _INSTALLMENT_SHARE,
    _LOOSE_RISK,
    _LOOSE_VOLUME,
    _LOOSE_WINDOW,
    _NOT_OPEN,
    _OPEN,
    _PRE_BOOK_DAYS,
    _PREPAY_RATE,
    _RECOVERY_RATE,
    _RISK_DRIFT,
    _SECOND_ACCOUNT_SHARE,
    _TIGHT_RISK,
    _TOKEN_PAYMENT,
    _UNFREEZE_RATE,
    _connect_given_called,
    _date,
    _day,
    _event_hazard,
    _expit,
    _late_fee,
    _miss_probabilities,
    _season,
    one_month_later,
)
from tooling.simulator.breakdown import allocate_recovery, slot_parts, virtual_slots
from tooling.simulator.contacts import _CH, _contact_day
from tooling.simulator.people import _build_customers

_K = 8  # arrears instalments kept per account: DPD <= 180 spans at most 7 monthly due dates
_NO, _PARTIAL, _MINIMUM, _FULL = range(4)  # cycle decisions


class _Book:
    """The whole book as numpy arrays: static account terms, dynamic balances, customer flags.

    Built in two steps, customers and accounts here, then `initialise_state`, so that output
    which needs only who holds what can start on the pool in between.
    """

    def __init__(self, n_accounts: int, start: date, end: date, seed: int,
                 shock_date: date | None, shock_size: float, pool: ThreadPoolExecutor):
        seeds = np.random.SeedSequence(seed).spawn(4)
        self.rng_init, self.rng, self.rng_people, self.rng_contact = (
            np.random.default_rng(s) for s in seeds)
        self.start, self.end = _day(start), _day(end)
        self.shock_day = _day(shock_date) if shock_date is not None else None
        self.shock_size = float(shock_size)
        first_month = _date(self.start - _PRE_BOOK_DAYS - 400).replace(day=1)
        months, current = [], first_month
        while current <= _date(self.end + 120):
            months.append(_day(current))
            current = one_month_later(current.replace(day=1))
        self.month_start = np.array(months, np.int64)
        self.events: list[dict[str, np.ndarray]] = []  # tonight's contacts, as column arrays
        self._create_customers(n_accounts)
        # customers' text only needs their countries: built on the pool while accounts are made
        self.people_future = pool.submit(_build_customers, self.rng_people, self.cust_us.copy())
        self._create_accounts(n_accounts)
        # what tonight's collection treatment does to each account's daily payment probability
        # (tooling/simulator/treatments.py); 1 outside a closed loop or a study
        self.treatment_multiplier = np.ones(self.n_accounts)

    # --- helpers
    def month_index(self, day) -> np.ndarray:
        return np.searchsorted(self.month_start, day, side="right") - 1

    def shock(self, day) -> np.ndarray | float:
        """The macro shock's log-odds addition on a day (scalar or array of days)."""
        if np.ndim(day) == 0:
            return self.shock_size if self.shock_day is not None and day >= self.shock_day else 0.0
        if self.shock_day is None:
            return np.zeros(np.shape(day))
        return np.where(np.asarray(day) >= self.shock_day, self.shock_size, 0.0)

    def date_multiplier(self, day):
        """The macro shock's effect on delinquent customers' daily payment probability."""
        return np.exp(-_EVENT_SHOCK * self.shock(day))

    def risk(self, idx=slice(None)) -> np.ndarray:
        return self.z[self.customer[idx]] + self.risk_offset[idx]

    def account_multiplier(self, idx) -> np.ndarray:
        customer = self.customer[idx]
        return (np.where(self.deceased[customer], _DECEASED_EVENT, 1.0)
                * np.where(self.bankrupt[customer], _BANKRUPT_EVENT, 1.0))

    def suppressed(self, idx, day: int) -> np.ndarray:
        """Accounts the lender may not call: open dispute, do-not-contact, opt-out, deceased..."""
        customer = self.customer[idx]
        return ((self.dispute_until[idx] >= day) | self.do_not_contact[customer]
                | self.deceased[customer] | self.bankrupt[customer]
                | ((self.opt_out[customer] & (1 << _CH["phone"])) > 0))

    def contact_rate(self, idx, day: int) -> np.ndarray:
        """Daily probability that a call connects, given the account is called (0 if suppressed)."""
        rate = _connect_given_called(self.connect[self.customer[idx]])
        return np.where(self.suppressed(idx, day), 0.0, rate)

    def active(self) -> np.ndarray:
        return (self.status == _OPEN) | (self.status == _FROZEN)

    # --- creation
    def _create_customers(self, n_accounts: int) -> None:
        """Customers: country, latent risk and how reachable they are by phone."""
        rng = self.rng_init
        n = min(n_accounts, max(1, round(n_accounts / (1 + _SECOND_ACCOUNT_SHARE))))
        self.n_customers = n
        self.cust_us = rng.random(n) < 0.15
        self.z = rng.standard_normal(n)
        self.connect = np.clip(rng.beta(2, 3, n) * np.exp(-0.25 * self.z), 0.05, 0.9)

    def _create_accounts(self, n_accounts: int) -> None:
        """Open dates (book growth, loosened vintage), holders, products and terms."""
        rng = self.rng_init
        n_customers = self.n_customers
        n_second = n_accounts - n_customers
        axis = np.arange(self.start - _PRE_BOOK_DAYS, self.end + 1)
        relative = axis - self.start
        weight = np.exp(_BOOK_GROWTH * np.minimum(relative, 0))
        loose = (relative >= _LOOSE_WINDOW[0]) & (relative < _LOOSE_WINDOW[1])
        weight[loose] *= _LOOSE_VOLUME
        cumulative = np.cumsum(weight) / weight.sum()
        first_open = axis[np.minimum(np.searchsorted(cumulative, rng.random(n_customers)),
                                     len(axis) - 1)]
        holder = rng.choice(n_customers, n_second, replace=False)
        second_open = first_open[holder] + rng.exponential(300, n_second).astype(np.int64)
        late = second_open > self.end
        room = self.end - first_open[holder] + 1
        second_open = np.where(late, first_open[holder] + (rng.random(n_second) * room).astype(int),
                               second_open)
        open_day = np.concatenate([first_open, second_open]).astype(np.int64)
        holder_of = np.concatenate([np.arange(n_customers), holder])
        is_second = np.arange(n_accounts) >= n_customers
        installment = rng.random(n_accounts) < np.where(is_second, 0.5, _INSTALLMENT_SHARE)
        term = rng.choice(np.array([6, 12, 24, 36]), n_accounts, p=[0.15, 0.35, 0.3, 0.2])
        # an installment loan paid off long before the first night would never appear: open later
        earliest = self.start - (term - 2) * 30
        redraw = installment & (open_day < earliest)
        open_day = np.where(redraw, earliest + (rng.random(n_accounts) * (term - 2) * 30).astype(int),
                            open_day)
        # account ids follow opening order (a radix sort on 16-bit days); customer ids follow
        # each customer's first account
        order = np.argsort((open_day - open_day.min()).astype(np.uint16), kind="stable")
        open_day, holder_of, installment, term = (a[order] for a in
                                                  (open_day, holder_of, installment, term))
        first_seen = np.empty(n_customers, np.int64)
        first_seen[holder_of[::-1]] = np.arange(n_accounts)[::-1]  # the last write wins: earliest
        is_first = first_seen[holder_of] == np.arange(n_accounts)
        rank = np.empty(n_customers, np.int64)
        rank[holder_of[is_first]] = np.arange(n_customers)
        self.customer = rank[holder_of]
        self.n_accounts = n_accounts
        self.open_day, self.installment, self.term = open_day, installment, term

        self.is_us = self.cust_us[self.customer]

        # vintage quality: the loosened period is worse, later vintages slightly better
        relative = open_day - self.start
        vintage = np.where((relative >= _LOOSE_WINDOW[0]) & (relative < _LOOSE_WINDOW[1]),
                           _LOOSE_RISK, np.where(relative >= _LOOSE_WINDOW[1], _TIGHT_RISK, 0.0))
        self.risk_offset = vintage + rng.normal(0, _ACCOUNT_RISK_SD, n_accounts)
        risk = self.risk()

        n = n_accounts
        us = self.is_us
        revolving_limit = np.where(
            us, np.clip(np.round(rng.lognormal(np.log(4_000), 0.7, n) * np.exp(-0.2 * risk), -2),
                        300, 30_000),
            np.clip(np.round(rng.lognormal(np.log(15_000), 0.6, n) * np.exp(-0.2 * risk), -3),
                    2_000, 200_000))
        principal = np.where(us, np.clip(np.round(rng.lognormal(np.log(6_000), 0.7, n), -2), 500,
                                         50_000),
                             np.clip(np.round(rng.lognormal(np.log(20_000), 0.8, n), -2), 1_000,
                                     300_000))
        self.credit_limit = (np.where(installment, principal, revolving_limit) * 100).astype(np.int64)
        self.apr = np.where(installment, np.clip(0.12 + 0.04 * risk, 0.06, 0.36),
                            np.where(us, np.clip(0.24 + 0.03 * risk, 0.15, 0.33), 0.18))
        monthly = self.apr / 12
        instalment = principal * monthly / (1 - (1 + monthly) ** (-term.astype(float)))
        self.instalment = np.where(installment, np.round(instalment * 100), 0).astype(np.int64)
        open_dom = open_day - self.month_start[self.month_index(open_day)] + 1
        self.statement_day = np.where(installment, np.minimum(open_dom, 28),
                                      rng.integers(1, 29, n)).astype(np.int64)
        self.due_offset = rng.choice(np.array([18, 20, 20, 21, 25]), n).astype(np.int64)
        self.spend_probability = rng.beta(2, 6, n)
        self.spend_fraction = rng.lognormal(np.log(0.02), 0.5, n)
        self.floor = np.where(us, _FLOOR_CENTS[True], _FLOOR_CENTS[False]).astype(np.int64)

        # dynamic state
        self.status = np.full(n, _NOT_OPEN, np.int8)
        zeros = lambda dtype=np.int64: np.zeros(n, dtype)
        self.balance, self.amount_due, self.past_due = zeros(), zeros(), zeros()
        self.statement_balance, self.fees, self.cycle_paid = zeros(), zeros(), zeros()
        self.payment_today = zeros()
        self.revolver = zeros(bool)
        self.arrears_amount = np.zeros((n, _K), np.int64)
        self.arrears_due = np.zeros((n, _K), np.int64)
        self.n_arrears = zeros(np.int64)
        minus = lambda: np.full(n, -1, np.int64)
        self.wo_oldest_due, self.cycle_due, self.cycle_start = minus(), minus(), minus()
        self.cycle_pay_day, self.last_payment_day, self.close_day = minus(), minus(), minus()
        self.boost_until, self.dispute_until = minus(), minus()
        # what a letter states: the latest statement, the charge-off and the past-due parts
        # (fees, interest, penalty interest) frozen on the day of the charge-off
        self.last_statement_day, self.last_statement_balance = minus(), zeros()
        self.charge_off_day = minus()
        self.charge_off_parts = np.zeros((n, 3), np.int64)
        self.boost_promise = zeros(bool)
        self.cycle_decision = zeros(np.int8)
        self.cycle_pay_done = zeros(bool)
        self.cycle_p_none, self.cycle_p_partial = zeros(float), zeros(float)
        c = n_customers
        self.deceased, self.bankrupt = np.zeros(c, bool), np.zeros(c, bool)
        self.do_not_contact = np.zeros(c, bool)
        self.opt_out = np.zeros(c, np.int16)

    def _statement_and_due(self, month_idx, idx) -> tuple[np.ndarray, np.ndarray]:
        statement = self.month_start[month_idx] + self.statement_day[idx] - 1
        return statement, statement + self.due_offset[idx]

    def _latest_statement(self, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The latest cycle date on or before ``day`` after the opening (-1 when none)."""
        month = self.month_index(day)
        statement, _ = self._statement_and_due(month, idx)
        statement = np.where(statement > day, self._statement_and_due(month - 1, idx)[0], statement)
        return np.where(statement > self.open_day[idx], statement, -1)

    def initialise_state(self) -> None:
        """The book as of the eve of the first night: seasoned balances, arrears and write-offs."""
        rng, t0 = self.rng_init, self.start
        pre = np.flatnonzero(self.open_day < t0)
        if len(pre) == 0:
            return
        self.status[pre] = _OPEN
        risk = self.risk(pre)
        inst = self.installment[pre]
        limit = self.credit_limit[pre]
        mi0 = int(self.month_index(t0))
        this_statement, _ = self._statement_and_due(np.full(len(pre), mi0), pre)
        last_mi = np.where(this_statement <= t0 - 1, mi0, mi0 - 1)
        s_last, d_last = self._statement_and_due(last_mi, pre)
        has_statement = s_last > self.open_day[pre]
        mi_open = self.month_index(self.open_day[pre])
        s_open, _ = self._statement_and_due(mi_open, pre)
        first_mi = np.where(s_open > self.open_day[pre], mi_open, mi_open + 1)
        n_statements = np.clip(last_mi - first_mi + 1, 0, self.term[pre] - 1)

        # initial bucket, tilted by risk
        base = np.array([0.016, 0.0095, 0.0075, 0.006, 0.005, 0.0045, 0.02])
        tilt = np.exp(1.2 * risk)
        tilt /= tilt.mean()
        probs = base[None, :] * tilt[:, None]
        total = probs.sum(axis=1, keepdims=True)
        probs = probs / np.maximum(total / 0.8, 1.0)
        cumulative = np.cumsum(probs, axis=1)
        bucket = (rng.random(len(pre))[:, None] >= cumulative).sum(axis=1) + 1
        bucket = np.where(bucket > 7, 0, bucket)
        bucket = np.where(has_statement | (bucket == 7), bucket, 0)

        # arrears due dates: the account's real cycle due dates within the target DPD
        target = np.where(bucket == 7, rng.integers(181, 400, len(pre)),
                          30 * (bucket - 1) + rng.integers(1, 31, len(pre)))
        candidate = np.flatnonzero((bucket >= 1) & (bucket <= 6))
        cand = pre[candidate]
        back = np.arange(9)[::-1]  # oldest first
        statements = self.month_start[mi0 - back[None, :]] + self.statement_day[cand][:, None] - 1
        dues = statements + self.due_offset[cand][:, None]
        usable = (dues <= t0 - 1) & (statements > self.open_day[cand][:, None])
        within = usable & (dues >= t0 - target[candidate][:, None])
        latest_usable = np.where(usable, dues, -1).max(axis=1)
        none_within = ~within.any(axis=1)
        within = np.where(none_within[:, None], usable & (dues == latest_usable[:, None]), within)
        delinquent = np.zeros(len(pre), bool)
        delinquent[candidate] = within.any(axis=1)
        written_off = (bucket == 7) & (self.open_day[pre] < t0 - target - 30)

        # balances
        utilisation = np.where(rng.random(len(pre)) < 0.25, 0.0,
                               np.clip(rng.beta(1.5, 2.5, len(pre)) + 0.1 * risk, 0, 1))
        utilisation = np.where(delinquent, rng.uniform(0.75, 1.02, len(pre)), utilisation)
        utilisation = np.where(written_off, rng.uniform(0.8, 1.05, len(pre)), utilisation)
        balance = np.round(utilisation * limit).astype(np.int64)
        arrears_each = np.where(inst, self.instalment[pre],
                                np.maximum(np.round(0.03 * balance), self.floor[pre]))
        k = np.zeros(len(pre), np.int64)
        k[candidate] = within.sum(axis=1)
        k = np.where(delinquent, k, 0)
        # selected due dates first (they are contiguous), oldest first
        first_col = np.argmax(within, axis=1)
        for j in range(_K):
            use = np.flatnonzero(k[candidate] > j)
            if len(use) == 0:
                break
            rows = candidate[use]
            self.arrears_due[pre[rows], j] = dues[use, first_col[use] + j]
            self.arrears_amount[pre[rows], j] = arrears_each[rows]
        self.n_arrears[pre] = k
        past_due = k * arrears_each
        pending = has_statement & (d_last >= t0) & ~written_off
        revolver = (rng.random(len(pre)) < _expit(0.3 + 1.2 * risk)) & ~inst
        interest = np.where(revolver, np.round(balance * self.apr[pre] / 12), 0)
        current_min = np.where(inst, self.instalment[pre],
                               np.maximum(np.round(0.01 * balance) + interest, self.floor[pre]))
        amount_due = np.where(pending, current_min, 0).astype(np.int64)
        unbilled = np.maximum(self.term[pre] - n_statements, 0) * self.instalment[pre]
        balance = np.where(inst, unbilled + past_due + amount_due,
                           np.maximum(balance, np.round((past_due + amount_due) * 1.25)))
        amount_due = np.minimum(amount_due, balance - past_due)
        pending &= amount_due > 0
        self.balance[pre] = balance
        self.past_due[pre] = past_due
        self.amount_due[pre] = np.where(pending, amount_due, 0)
        self.statement_balance[pre] = np.where(inst, amount_due, balance - past_due)
        self.revolver[pre] = revolver | delinquent
        self.cycle_due[pre] = np.where(pending, d_last, -1)
        self.cycle_start[pre] = np.where(pending, s_last, -1)
        oldest = np.where(delinquent, self.arrears_due[pre, 0], np.where(written_off, t0 - target, -1))
        paid_before = oldest - rng.integers(0, 41, len(pre))
        last_paid = np.where(delinquent | written_off,
                             np.where(paid_before > self.open_day[pre], paid_before, -1),
                             np.where(has_statement,
                                      s_last + 1 + (rng.random(len(pre))
                                                    * np.maximum(np.minimum(d_last, t0 - 1) - s_last, 1)
                                                    ).astype(np.int64), -1))
        self.last_payment_day[pre] = np.minimum(last_paid, t0 - 1)

        # written off before the first night, at 181 days past due
        wo = pre[written_off]
        self.status[wo] = _CHARGED_OFF
        self.wo_oldest_due[wo] = t0 - target[written_off]
        self.charge_off_day[wo] = self.wo_oldest_due[wo] + 181
        due, missed = virtual_slots(self.wo_oldest_due[wo])
        self.charge_off_parts[wo] = slot_parts(
            self, wo, np.broadcast_to(arrears_each[written_off][:, None], due.shape), due, missed,
            self.charge_off_day[wo])
        self.past_due[wo] = self.balance[wo]
        self.amount_due[wo] = 0
        self.n_arrears[wo] = 0

        # current accounts with a statement whose due date is still ahead: decide and maybe pay
        current_pending = pre[pending & ~delinquent]
        if len(current_pending):
            self._draw_cycle(current_pending, self.cycle_start[current_pending],
                             self.cycle_due[current_pending], rng)
            early = current_pending[self.cycle_pay_day[current_pending] <= t0 - 1]
            self._pay_scheduled(early, self.cycle_pay_day[early], rng)
        delinquent_pending = pre[pending & delinquent]
        self.cycle_decision[delinquent_pending] = _NO
        self.cycle_p_none[delinquent_pending] = 1.0

        # a few closed cards (drop out after 30 days) and frozen accounts
        closable = pre[(~inst) & (self.status[pre] == _OPEN) & (self.n_arrears[pre] == 0)
                       & (self.open_day[pre] < t0 - 60) & (self.amount_due[pre] == 0)]
        closed = closable[rng.random(len(closable)) < 0.015]
        self.balance[closed] = 0  # paid off, then closed
        self.close_day[closed] = t0 - rng.integers(1, 31, len(closed))
        self._close(closed, self.close_day[closed])
        self.last_payment_day[closed] = self.close_day[closed]
        still_open = pre[self.status[pre] == _OPEN]
        self.status[still_open[rng.random(len(still_open)) < 0.003]] = _FROZEN
        self.payment_today[:] = 0
        last_active = np.where(self.status[pre] == _CHARGED_OFF, self.charge_off_day[pre],
                               np.where(self.status[pre] == _CLOSED, self.close_day[pre], t0 - 1))
        self.last_statement_day[pre] = self._latest_statement(pre, last_active)
        self.last_statement_balance[pre] = self.balance[pre]

    # --- money movements
    def _apply_payment(self, idx: np.ndarray, amount: np.ndarray, day) -> None:
        """Pay oldest arrears first, then the current minimum, then the rest of the balance.

        ``day`` is the payment day, one for all or one per account.
        """
        amount = np.minimum(amount.astype(np.int64), self.balance[idx])
        keep = amount > 0
        idx, amount = idx[keep], amount[keep]
        if len(idx) == 0:
            return
        self.balance[idx] -= amount
        self.payment_today[idx] += amount
        self.cycle_paid[idx] += amount
        self.last_payment_day[idx] = day[keep] if isinstance(day, np.ndarray) else day
        to_arrears = np.minimum(amount, self.past_due[idx])
        owing = np.flatnonzero(to_arrears > 0)
        if len(owing):
            acc, pay = idx[owing], to_arrears[owing]
            arrears = self.arrears_amount[acc]
            cumulative = np.cumsum(arrears, axis=1)
            columns = np.arange(_K)[None, :]
            settled = ((cumulative <= pay[:, None]) & (columns < self.n_arrears[acc][:, None])).sum(1)
            before = np.where(settled > 0, cumulative[np.arange(len(acc)), np.maximum(settled - 1, 0)], 0)
            partial_col = np.minimum(settled, _K - 1)
            rest = pay - before
            has_rest = (rest > 0) & (settled < self.n_arrears[acc])
            arrears[np.arange(len(acc))[has_rest], partial_col[has_rest]] -= rest[has_rest]
            shift = np.minimum(columns + settled[:, None], _K - 1)
            new_n = self.n_arrears[acc] - settled
            valid = columns < new_n[:, None]
            self.arrears_amount[acc] = np.where(valid, np.take_along_axis(arrears, shift, 1), 0)
            self.arrears_due[acc] = np.where(valid, np.take_along_axis(self.arrears_due[acc], shift, 1),
                                             0)
            self.n_arrears[acc] = new_n
            self.past_due[acc] -= pay
        rest = amount - to_arrears
        self.amount_due[idx] -= np.minimum(rest, self.amount_due[idx])

    def _draw_cycle(self, idx: np.ndarray, start: np.ndarray, due: np.ndarray,
                    rng: np.random.Generator) -> None:
        """A current customer's decision for this cycle and the day they act on it."""
        risk = self.risk(idx)
        revolving = ~self.installment[idx]
        utilisation = np.where(revolving, self.balance[idx] / np.maximum(self.credit_limit[idx], 1),
                               0.4)
        early = (start - self.open_day[idx]) < 95
        p_none, p_partial = _miss_probabilities(risk, utilisation, early, self.shock(start))
        full = _expit(1.0 - 1.5 * risk - 2.5 * (utilisation - 0.4))
        u = rng.random(len(idx))
        pays_full = rng.random(len(idx)) < full
        decision = np.where(u < p_none, _NO, np.where(u < p_none + p_partial, _PARTIAL,
                                                       np.where(pays_full & revolving, _FULL,
                                                                _MINIMUM)))
        window = due - start
        too_late = window < 1  # redrawn on the due date itself: nothing can be paid any more
        pay_day = start + 1 + (rng.random(len(idx)) * np.maximum(window, 1)).astype(np.int64)
        self.cycle_decision[idx] = np.where(too_late, _NO, decision)
        self.cycle_p_none[idx] = np.where(too_late, 1.0, p_none)
        self.cycle_p_partial[idx] = np.where(too_late, 0.0, p_partial)
        self.cycle_pay_day[idx] = np.where(too_late, -1, pay_day)
        self.cycle_start[idx] = start
        self.cycle_pay_done[idx] = False

    def _pay_scheduled(self, idx: np.ndarray, day, rng: np.random.Generator) -> None:
        decision = self.cycle_decision[idx]
        paying = decision != _NO
        idx, decision = idx[paying], decision[paying]
        day = day[paying] if isinstance(day, np.ndarray) else day
        if len(idx) == 0:
            return
        due = self.amount_due[idx]
        statement = np.maximum(self.statement_balance[idx], due)
        extra = np.where(self.installment[idx], 0,
                         np.round(rng.beta(1, 4, len(idx)) * np.maximum(statement - due, 0)))
        amount = np.where(decision == _FULL, statement,
                          np.where(decision == _MINIMUM, due + extra,
                                   np.floor(rng.uniform(0.2, 0.8, len(idx)) * due)))
        self._apply_payment(idx, amount.astype(np.int64), day)
        self.cycle_pay_done[idx] = True

    def _close(self, idx: np.ndarray, day) -> None:
        self.status[idx] = _CLOSED
        self.close_day[idx] = day
        self.cycle_due[idx] = -1
        self.amount_due[idx] = 0

    # --- one night
    def step(self, night: date) -> None:
        """Advance the book through one day, in the order a lender's day happens."""
        t = _day(night)
        self.today = t
        self.payment_today[:] = 0
        rng = self.rng
        self._pass_due_dates(t)
        opening = np.flatnonzero(self.open_day == t)
        self.status[opening] = _OPEN
        self.balance[opening] = np.where(self.installment[opening],
                                         self.instalment[opening] * self.term[opening], 0)
        self.z += rng.normal(0, _RISK_DRIFT, self.n_customers)
        self._spend(t, night, rng)
        paying = np.flatnonzero((self.cycle_pay_day == t) & self.active() & (self.n_arrears == 0)
                                & ~self.cycle_pay_done & (self.cycle_due >= t))
        self._pay_scheduled(paying, t, rng)
        self._delinquent_payments(t, rng)
        self._recoveries_and_closures(t, rng)
        self._statements(t, night, rng)
        self._charge_off(t)
        self.events = _contact_day(self, t, self.rng_contact)
        self._freeze(rng)

    def _pass_due_dates(self, t: int) -> None:
        """Yesterday's unpaid minimum becomes an arrears instalment (DPD 1 tonight)."""
        idx = np.flatnonzero((self.cycle_due == t - 1) & self.active())
        if len(idx) == 0:
            return
        unpaid = self.amount_due[idx]
        late = idx[unpaid > 0]
        amount = unpaid[unpaid > 0]
        slot = np.minimum(self.n_arrears[late], _K - 1)
        merge = self.n_arrears[late] >= _K
        self.arrears_amount[late, slot] += amount
        self.arrears_due[late[~merge], slot[~merge]] = t - 1
        self.n_arrears[late] = np.minimum(self.n_arrears[late] + 1, _K)
        self.past_due[late] += amount
        fee = _late_fee(amount, self.is_us[late])
        self.balance[late] += fee
        self.fees[late] += fee
        self.revolver[late] = ~self.installment[late]
        paid = idx[unpaid == 0]
        self.revolver[paid] = (self.cycle_paid[paid] < self.statement_balance[paid]) \
            & ~self.installment[paid]
        self.amount_due[idx] = 0
        self.cycle_due[idx] = -1
        self.cycle_pay_day[idx] = -1

    def _spend(self, t: int, night: date, rng: np.random.Generator) -> None:
        idx = np.flatnonzero((self.status == _OPEN) & ~self.installment & (self.n_arrears == 0))
        if len(idx) == 0:
            return
        season = np.array([_season(night, False), _season(night, True)])
        factor = season[self.is_us[idx].astype(int)]
        spends = rng.random(len(idx)) < np.minimum(self.spend_probability[idx] * factor[:, 0], 0.95)
        idx, factor = idx[spends], factor[spends]
        amount = (self.credit_limit[idx] * self.spend_fraction[idx] * factor[:, 1]
                  * rng.lognormal(0, 0.8, len(idx)))
        room = np.maximum(self.credit_limit[idx] - self.balance[idx], 0)
        self.balance[idx] += np.minimum(np.floor(amount), room).astype(np.int64)

    def _delinquent_payments(self, t: int, rng: np.random.Generator) -> None:
        """Cures, pay-the-oldest roll-backs and token payments of delinquent accounts."""
        idx = np.flatnonzero(self.active() & (self.n_arrears > 0))
        if len(idx) == 0:
            return
        dpd = t - self.arrears_due[idx, 0]
        boost = np.where(self.boost_until[idx] >= t,
                         np.where(self.boost_promise[idx], _BOOST_PROMISE, _BOOST_CONNECTED), 1.0)
        probability = np.minimum(
            _event_hazard(self.risk(idx), self.account_multiplier(idx)) * self.date_multiplier(t)
            * _BUCKET_EVENT[bucket_index(dpd)] * boost * self.treatment_multiplier[idx], _EVENT_CAP)
        u = rng.random(len(idx))
        token_share = rng.uniform(0.1, 0.5, len(idx))
        cure = idx[u < probability * _CURE_SHARE]
        oldest = idx[(u >= probability * _CURE_SHARE) & (u < probability)]
        token_mask = (u >= probability) & (u < probability + _TOKEN_PAYMENT)
        token = idx[token_mask]
        self._apply_payment(cure, self.past_due[cure] + self.amount_due[cure], t)
        self._apply_payment(oldest, self.arrears_amount[oldest, 0], t)
        token_amount = np.floor(token_share[token_mask] * self.arrears_amount[token, 0])
        self._apply_payment(token, np.minimum(token_amount, self.arrears_amount[token, 0] - 1), t)
        # back to current with a minimum still open: the customer decides anew
        redraw = oldest[(self.n_arrears[oldest] == 0) & (self.amount_due[oldest] > 0)
                        & (self.cycle_due[oldest] >= t)]
        if len(redraw):
            self._draw_cycle(redraw, np.full(len(redraw), t), self.cycle_due[redraw], rng)

    def _recoveries_and_closures(self, t: int, rng: np.random.Generator) -> None:
        written_off = np.flatnonzero((self.status == _CHARGED_OFF) & (self.balance > 1))
        recover = written_off[rng.random(len(written_off)) < _RECOVERY_RATE]
        amount = np.floor(rng.uniform(0.05, 0.3, len(recover)) * self.balance[recover]).astype(np.int64)
        amount = np.clip(amount, 1, self.balance[recover] - 1)
        self.balance[recover] -= amount
        self.payment_today[recover] += amount
        self.last_payment_day[recover] = t
        self.charge_off_parts[recover] = allocate_recovery(self.charge_off_parts[recover], amount)
        self.past_due[written_off] = self.balance[written_off]

        active = self.active()
        loans = np.flatnonzero(active & self.installment & (self.n_arrears == 0) & (self.balance > 0))
        prepay = loans[rng.random(len(loans)) < _PREPAY_RATE]
        self._apply_payment(prepay, self.balance[prepay], t)
        paid_off = np.flatnonzero(active & self.installment & (self.balance == 0)
                                  & (self.open_day < t))
        self._close(paid_off, t)
        cards = np.flatnonzero((self.status == _OPEN) & ~self.installment & (self.balance == 0)
                               & (self.n_arrears == 0) & (self.open_day < t - 30))
        self._close(cards[rng.random(len(cards)) < _CLOSE_RATE], t)
        gone = (self.status == _CLOSED) & (t - self.close_day > _DROP_AFTER_DAYS)
        self.status[gone] = _GONE

    def _statements(self, t: int, night: date, rng: np.random.Generator) -> None:
        """Statement day: interest, the new minimum, and current customers' cycle decisions."""
        if night.day > 28:
            return
        idx = np.flatnonzero(self.active() & (self.statement_day == night.day) & (self.open_day < t))
        if len(idx) == 0:
            return
        revolving = ~self.installment[idx]
        balance = self.balance[idx]
        interest = np.where(revolving & self.revolver[idx] & (balance > 0),
                            np.round(balance * self.apr[idx] / 12), 0).astype(np.int64)
        self.balance[idx] += interest
        self.last_statement_day[idx] = t
        self.last_statement_balance[idx] = self.balance[idx]
        unbilled = self.balance[idx] - self.past_due[idx]
        minimum = np.where(
            revolving,
            np.maximum(np.round(0.01 * unbilled) + interest + self.fees[idx], self.floor[idx]),
            self.instalment[idx] + self.fees[idx]).astype(np.int64)
        minimum = np.clip(minimum, 0, np.maximum(unbilled, 0))
        self.amount_due[idx] = minimum
        self.statement_balance[idx] = np.where(revolving, np.maximum(unbilled, 0), minimum)
        self.fees[idx] = 0
        self.cycle_paid[idx] = 0
        has_due = minimum > 0
        self.cycle_due[idx] = np.where(has_due, t + self.due_offset[idx], -1)
        self.cycle_start[idx] = np.where(has_due, t, -1)
        self.cycle_pay_day[idx] = -1
        self.cycle_pay_done[idx] = False
        current = idx[has_due & (self.n_arrears[idx] == 0)]
        self._draw_cycle(current, np.full(len(current), t), self.cycle_due[current], rng)
        behind = idx[has_due & (self.n_arrears[idx] > 0)]
        self.cycle_decision[behind] = _NO
        self.cycle_p_none[behind] = 1.0
        self.cycle_p_partial[behind] = 0.0

    def _charge_off(self, t: int) -> None:
        idx = np.flatnonzero(self.active() & (self.n_arrears > 0))
        idx = idx[t - self.arrears_due[idx, 0] > 180]
        valid = np.arange(_K)[None, :] < self.n_arrears[idx][:, None]
        self.charge_off_parts[idx] = slot_parts(self, idx, self.arrears_amount[idx],
                                                self.arrears_due[idx], valid, t)
        self.charge_off_day[idx] = t
        self.status[idx] = _CHARGED_OFF
        self.wo_oldest_due[idx] = self.arrears_due[idx, 0]
        self.past_due[idx] = self.balance[idx]
        self.amount_due[idx] = 0
        self.n_arrears[idx] = 0
        self.arrears_amount[idx] = 0
        self.arrears_due[idx] = 0
        self.cycle_due[idx] = -1
        self.boost_until[idx] = -1

    def _freeze(self, rng: np.random.Generator) -> None:
        customer_blocked = self.deceased | self.bankrupt
        open_ = np.flatnonzero(self.status == _OPEN)
        freeze = open_[(rng.random(len(open_)) < _FREEZE_RATE) | customer_blocked[self.customer[open_]]]
        frozen = np.flatnonzero(self.status == _FROZEN)
        thaw = frozen[(rng.random(len(frozen)) < _UNFREEZE_RATE)
                      & ~customer_blocked[self.customer[frozen]]]
        self.status[freeze] = _FROZEN
        self.status[thaw] = _OPEN

    # --- what the account shows tonight
    def days_past_due(self, idx: np.ndarray, t: int) -> np.ndarray:
        status = self.status[idx]
        behind = ((status == _OPEN) | (status == _FROZEN)) & (self.n_arrears[idx] > 0)
        return np.where(behind, t - self.arrears_due[idx, 0],
                        np.where(status == _CHARGED_OFF, t - self.wo_oldest_due[idx], 0))

    def next_due(self, idx: np.ndarray, t: int) -> np.ndarray:
        status = self.status[idx]
        mi = int(self.month_index(t))
        this_statement = self.month_start[mi] + self.statement_day[idx] - 1
        statement = np.where(this_statement > t, this_statement,
                             self.month_start[mi + 1] + self.statement_day[idx] - 1)
        upcoming = np.where(self.cycle_due[idx] >= t, self.cycle_due[idx],
                            statement + self.due_offset[idx])
        owes = ((status == _OPEN) | (status == _FROZEN)) & (self.balance[idx] > 0)
        return np.where(owes, upcoming, -1)
