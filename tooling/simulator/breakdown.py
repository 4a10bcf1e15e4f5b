"""What a collection letter itemises: an account's past-due amount split into principal,
interest, penalty interest (罚息) and late fees (违约金), accrued from its missed instalments.

Per missed instalment (an arrears slot of ``amount`` cents, due on ``due``): its late fee (the
fee the book charged when it was missed, at most the slot), its interest (the instalment's
amortisation interest for a loan, a month's interest on the balance for a card, at most what is
left), and of the rest the principal and the penalty interest accrued on that principal at
``_PENALTY_RATE`` for the days since ``due``. The account's parts are the slots' sums; the
caller caps them in the order fees, interest, penalty and makes principal the rest, so the four
always add up to the cent to the past-due amount. A charged-off account keeps the fees,
interest and penalty of the day it was charged off (no accrual after it), reduced by recoveries
in that order; principal is the rest of its balance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tooling.simulator.behaviour import _CHARGED_OFF, _FROZEN, _OPEN, _PENALTY_RATE, _late_fee

if TYPE_CHECKING:
    from tooling.simulator.accounts import _Book

# a charged-off account missed the due dates of its 181 days past due: seven monthly cycles
CHARGE_OFF_CYCLES = 7


def annual_rate(book: _Book, idx: np.ndarray) -> np.ndarray:
    """The contractual annual rate as the snapshot states it (4 decimal places)."""
    return np.round(book.apr[idx], 4)


def _first_statement_month(book: _Book, idx: np.ndarray) -> np.ndarray:
    month = book.month_index(book.open_day[idx])
    statement = book.month_start[month] + book.statement_day[idx] - 1
    return np.where(statement > book.open_day[idx], month, month + 1)


def _cycle_interest(book: _Book, idx: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Interest billed in the cycle of each due date (rows idx, columns the slots), in cents."""
    monthly = (annual_rate(book, idx) / 12)[:, None]
    card = np.round(book.balance[idx][:, None] * monthly)
    cycle = (book.month_index(due - book.due_offset[idx][:, None])
             - _first_statement_month(book, idx)[:, None] + 1)
    number = np.clip(cycle, 1, book.term[idx][:, None])
    growth = (1 + monthly) ** (number - 1)
    outstanding = (book.credit_limit[idx][:, None] * growth
                   - book.instalment[idx][:, None] * (growth - 1) / monthly)
    loan = np.round(np.maximum(outstanding, 0) * monthly)
    return np.where(book.installment[idx][:, None], loan, card).astype(np.int64)


def slot_parts(book: _Book, idx: np.ndarray, amount: np.ndarray, due: np.ndarray,
               valid: np.ndarray, as_of) -> np.ndarray:
    """(fees, interest, penalty interest) in cents per account, summed over its valid slots."""
    amount = np.where(valid, amount, 0).astype(np.int64)
    fee = np.minimum(_late_fee(amount, book.is_us[idx][:, None]), amount)
    interest = np.minimum(_cycle_interest(book, idx, due), amount - fee)
    base = amount - fee - interest
    days = np.maximum(np.asarray(as_of)[..., None] - due, 0)
    principal = np.floor(base / (1 + _PENALTY_RATE * days / 365)).astype(np.int64)
    parts = np.stack([fee, interest, base - principal], axis=1)
    return np.where(valid[:, None, :], parts, 0).sum(axis=2)


def virtual_slots(oldest_due: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Due dates of the monthly cycles an account missed from ``oldest_due`` to its charge-off."""
    width = 8
    due = oldest_due[:, None] + np.round(np.arange(width) * 30.44).astype(np.int64)[None, :]
    return due, np.broadcast_to(np.arange(width) < CHARGE_OFF_CYCLES, due.shape)


def allocate_recovery(parts: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Parts (fees, interest, penalty) after a recovery paid them in that order."""
    parts = parts.copy()
    left = amount.astype(np.int64)
    for column in range(parts.shape[1]):
        paid = np.minimum(parts[:, column], left)
        parts[:, column] -= paid
        left = left - paid
    return parts


def past_due_parts(book: _Book, idx: np.ndarray, t: int) -> dict[str, np.ndarray]:
    """Tonight's four parts of past_due_amount, in cents, summing exactly to it on every row."""
    total = book.past_due[idx]
    accrued = np.zeros((len(idx), 3), np.int64)
    status = book.status[idx]
    behind = np.flatnonzero(((status == _OPEN) | (status == _FROZEN)) & (book.n_arrears[idx] > 0)
                            & (total > 0))
    if len(behind):
        rows = idx[behind]
        valid = np.arange(book.arrears_amount.shape[1])[None, :] < book.n_arrears[rows][:, None]
        accrued[behind] = slot_parts(book, rows, book.arrears_amount[rows], book.arrears_due[rows],
                                     valid, t)
    charged = status == _CHARGED_OFF
    accrued[charged] = book.charge_off_parts[idx[charged]]
    fees = np.minimum(accrued[:, 0], total)
    interest = np.minimum(accrued[:, 1], total - fees)
    penalty = np.minimum(accrued[:, 2], total - fees - interest)
    return {"past_due_principal": total - fees - interest - penalty,
            "past_due_interest": interest, "past_due_penalty_interest": penalty,
            "past_due_fees": fees}
