"""How the simulated book behaves: its day numbers, account states, tuned parameters and the
probability functions that both the daily dynamics sample from and the truth reuses, kept in one
place so that the truth is exact for the event model the book runs on.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import numpy as np

# --- calendar: the book counts in days since 1970-01-01 -------------------------------------

_EPOCH = date(1970, 1, 1)


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _date(day: int) -> date:
    return _EPOCH + timedelta(days=int(day))


def one_month_later(value: date) -> date:
    """The same day next month, clamped; month-end rolls to month-end (DOMAIN §2)."""
    year, month = (value.year + 1, 1) if value.month == 12 else (value.year, value.month + 1)
    last = calendar.monthrange(year, month)[1]
    if value.day == calendar.monthrange(value.year, value.month)[1]:
        return date(year, month, last)
    return date(year, month, min(value.day, last))


# Account status codes; _GONE is a closed account that has dropped out of the file.
_NOT_OPEN, _OPEN, _FROZEN, _CLOSED, _CHARGED_OFF, _GONE = range(6)
_STATUS_TEXT = ("", "open", "frozen", "closed", "charged_off", "")

# --- behaviour parameters (tuned so the book lands inside the marginal targets) ---------------
_PRE_BOOK_DAYS = 1095              # the book's history before the first night
_BOOK_GROWTH = 0.0010              # daily growth of new-account volume
_LOOSE_WINDOW = (-270, -150)       # loosened underwriting, days relative to the first night
_LOOSE_VOLUME, _LOOSE_RISK = 1.6, 0.6
_TIGHT_RISK = -0.15                # accounts opened after the loosened period ends
_SECOND_ACCOUNT_SHARE = 0.10       # share of customers holding two accounts
_INSTALLMENT_SHARE = 0.30
_RISK_DRIFT = 0.012                # daily sd of the customer risk random walk
_ACCOUNT_RISK_SD = 0.35

_MISS_INTERCEPT, _MISS_RISK, _MISS_UTIL, _MISS_EARLY_MOB = -4.25, 1.05, 1.4, 0.4
_PARTIAL_SHARE = 0.3               # of misses, the share that pays something below the minimum
_EVENT_BASE, _EVENT_RISK = 0.034, 0.65
_EVENT_SHOCK = 0.5                 # daily cure probability x exp(-_EVENT_SHOCK * shock size)
_EVENT_CAP = 0.9
_CURE_SHARE = 0.7                  # of payment events while delinquent, full cures
_TOKEN_PAYMENT = 0.02              # daily probability of a token payment that cures nothing
_BUCKET_EVENT = np.array([0.0, 1.0, 0.6, 0.42, 0.32, 0.26, 0.22, 0.22])  # by bucket M0..M6, 181
_CALL_ATTEMPT = np.array([0.0, 0.25, 0.40, 0.45, 0.35, 0.35, 0.35, 0.0])
_ATTEMPTS_PER_DAY = np.array([0.6, 0.3, 0.1])  # 1, 2 or 3 attempts when the account is called
_BOOST_DAYS = 7
_BOOST_CONNECTED, _BOOST_PROMISE = 1.6, 3.0
_PROMISE_SHARE = 0.45
_DECEASED_EVENT, _BANKRUPT_EVENT = 0.3, 0.15  # daily cure probability multipliers

_FLOOR_CENTS = {False: 100_00, True: 35_00}   # minimum-payment floor, CNY / USD
_LATE_FEE_US = 30_00
_PENALTY_RATE = 0.1825             # annual penalty interest on past-due principal (0.05 % a day)
_RECOVERY_RATE = 0.004
_PREPAY_RATE = 0.0008
_CLOSE_RATE = 0.0005
_DROP_AFTER_DAYS = 30
_FREEZE_RATE, _UNFREEZE_RATE = 0.00003, 0.03


def _season(night: date, is_us: bool) -> tuple[float, float]:
    """Spending multipliers (probability, amount) for shopping festivals: why balances swell."""
    month, day = night.month, night.day
    if is_us:
        november_first = date(night.year, 11, 1)
        thanksgiving = november_first + timedelta(days=(3 - november_first.weekday()) % 7 + 21)
        black_friday = thanksgiving + timedelta(days=1)
        if night in (black_friday, black_friday + timedelta(days=3)):
            return 2.5, 2.0
        if thanksgiving <= night <= date(night.year, 12, 24):
            return 1.3, 1.3
        if month == 7 and day in (9, 10, 11):
            return 1.5, 1.3
        return 1.0, 1.0
    if month == 6 and day == 18:
        return 2.0, 1.8
    if month == 6 and day < 18:
        return 1.3, 1.2
    if month == 11 and day == 11:
        return 2.5, 2.5
    if (month == 10 and day >= 21) or (month == 11 and day < 11):
        return 1.3, 1.3
    if month == 12 and day == 12:
        return 1.6, 1.5
    if (month == 1 and day >= 15) or (month == 2 and day <= 10):
        return 1.2, 1.3
    return 1.0, 1.0


def _late_fee(amount: np.ndarray, is_us: np.ndarray) -> np.ndarray:
    """The late fee (违约金) charged for a missed minimum of ``amount`` cents."""
    return np.where(is_us, _LATE_FEE_US, np.maximum(np.round(0.05 * amount), 10_00)).astype(np.int64)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --- shared probability functions: the simulator samples from these and truth reuses them -------

def _miss_probabilities(risk: np.ndarray, utilisation: np.ndarray, early_mob: np.ndarray,
                        shock: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(pays nothing), P(pays below the minimum) for a statement cycle."""
    logit = (_MISS_INTERCEPT + _MISS_RISK * risk + _MISS_UTIL * (np.clip(utilisation, 0, 1.2) - 0.4)
             + _MISS_EARLY_MOB * early_mob + shock)
    miss = _expit(logit)
    return miss * (1 - _PARTIAL_SHARE), miss * _PARTIAL_SHARE


def _event_hazard(risk: np.ndarray, account_multiplier: np.ndarray) -> np.ndarray:
    """Daily payment-event probability of a delinquent account before bucket, date and boost."""
    return _EVENT_BASE * np.exp(-_EVENT_RISK * risk) * account_multiplier


def _connect_given_called(connect_probability: np.ndarray) -> np.ndarray:
    """P(at least one of the day's 1-3 attempts connects): the chain's daily contact rate."""
    miss = 1 - connect_probability
    return sum(w * (1 - miss ** (n + 1)) for n, w in enumerate(_ATTEMPTS_PER_DAY))

