"""The night's contacts between the lender and its customers: collection calls on delinquent
accounts (whose connections boost the daily cure probability), promises to pay, disputes,
complaints, and the customers' opt-outs, do-not-contact requests, deaths and bankruptcies, which
change what the lender may do next. Each event is kept as integer codes until the files are written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.buckets import bucket_index
from tooling.simulator.behaviour import (
    _ATTEMPTS_PER_DAY,
    _BOOST_DAYS,
    _CALL_ATTEMPT,
    _CHARGED_OFF,
    _OPEN,
    _PROMISE_SHARE,
)

if TYPE_CHECKING:
    from tooling.simulator.accounts import _Book

EVENT_TYPES: tuple[str, ...] = (
    "dispute_opened", "dispute_closed", "complaint", "promise_to_pay", "opt_out", "do_not_contact",
    "deceased", "bankruptcy", "call_attempt", "call_connected",
)
CHANNELS: tuple[str, ...] = ("sms", "email", "phone", "letter", "app", "visit")
_EV = {name: code for code, name in enumerate(EVENT_TYPES)}
_CH = {name: code for code, name in enumerate(CHANNELS)}


class _Events:
    """The night's events as integer column arrays, a part per kind of contact, in draw order."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, customer, account, kind, channel, second, amount=None, until=None) -> None:
        n = len(customer)
        if n == 0:
            return
        full = lambda value: np.full(n, value, np.int64) if np.isscalar(value) else \
            np.asarray(value, np.int64)
        self.parts.append({
            "customer": full(customer), "account": full(account), "type": full(kind),
            "channel": full(channel), "second": full(second),
            "amount": full(-1 if amount is None else amount),
            "until": full(-1 if until is None else until),
        })


def _contact_day(book: _Book, t: int, rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    """The lender's collection calls and the customers' disputes, complaints and notices.

    Updates the book's dispute, boost and customer flags; returns the night's events.
    """
    events = _Events()
    active = book.active()
    visible = (book.status >= _OPEN) & (book.status <= _CHARGED_OFF)

    # disputes close, then new ones open
    closing = np.flatnonzero(book.dispute_until == t)
    events.add(book.customer[closing], closing, _EV["dispute_closed"],
               rng.choice([_CH["letter"], _CH["email"], _CH["app"]], len(closing)),
               rng.integers(9 * 3600, 18 * 3600, len(closing)))
    book.dispute_until[closing] = -1
    candidates = np.flatnonzero(visible & (book.dispute_until < t))
    troubled = (book.n_arrears[candidates] > 0) | (book.status[candidates] == _CHARGED_OFF)
    opening = candidates[rng.random(len(candidates)) < np.where(troubled, 2e-4, 4e-5)]
    book.dispute_until[opening] = t + rng.integers(7, 46, len(opening))
    channel = rng.choice([_CH["phone"], _CH["app"], _CH["email"], _CH["letter"]], len(opening),
                         p=[0.4, 0.3, 0.2, 0.1])
    events.add(book.customer[opening], opening, _EV["dispute_opened"], channel,
               rng.integers(7 * 3600, 23 * 3600, len(opening)))

    # collection calls on delinquent accounts
    delinquent = np.flatnonzero(active & (book.n_arrears > 0))
    dpd = t - book.arrears_due[delinquent, 0]
    attempt = (rng.random(len(delinquent)) < _CALL_ATTEMPT[bucket_index(dpd)]) \
        & ~book.suppressed(delinquent, t)
    called = delinquent[attempt]
    n = len(called)
    if n:
        attempts = rng.choice(3, n, p=_ATTEMPTS_PER_DAY) + 1
        success = rng.random((n, 3)) < book.connect[book.customer[called]][:, None]
        success &= np.arange(3)[None, :] < attempts[:, None]
        connected = success.any(axis=1)
        first = np.argmax(success, axis=1)
        used = np.where(connected, first + 1, attempts)
        times = np.sort(rng.integers(9 * 3600, 20 * 3600 + 1800, (n, 3)), axis=1)
        for k in range(3):
            made = used > k
            kind = np.where(connected & (first == k), _EV["call_connected"], _EV["call_attempt"])
            events.add(book.customer[called[made]], called[made], kind[made], _CH["phone"],
                       times[made, k])
        talked = called[connected]
        call_time = times[connected, first[connected]]
        promise = rng.random(len(talked)) < _PROMISE_SHARE
        book.boost_until[talked] = t + _BOOST_DAYS
        book.boost_promise[talked] = promise
        promised = talked[promise]
        owed = book.past_due[promised] + book.amount_due[promised]
        amount = np.where(rng.random(len(promised)) < 0.7, owed,
                          np.round(owed * rng.uniform(0.3, 0.9, len(promised))))
        events.add(book.customer[promised], promised, _EV["promise_to_pay"], _CH["phone"],
                   call_time[promise] + rng.integers(30, 600, len(promised)),
                   amount.astype(np.int64), t + rng.integers(1, 8, len(promised)))
        upset = rng.random(len(talked)) < 0.01
        events.add(book.customer[talked[upset]], talked[upset], _EV["complaint"],
                   _CH["phone"], np.minimum(call_time[upset] + 900, 86_399))

    # complaints about anything else
    existing = np.flatnonzero(visible)
    complaining = existing[rng.random(len(existing)) < 2e-5]
    events.add(book.customer[complaining], complaining, _EV["complaint"],
               rng.choice([_CH["phone"], _CH["app"], _CH["email"], _CH["letter"]],
                          len(complaining)),
               rng.integers(7 * 3600, 23 * 3600, len(complaining)))

    # customer-level notices
    holders = np.bincount(book.customer[existing], minlength=book.n_customers) > 0
    behind = np.bincount(book.customer[delinquent], minlength=book.n_customers) > 0
    u = rng.random((5, book.n_customers))
    channel = rng.choice(np.array([_CH["sms"], _CH["email"], _CH["app"], _CH["phone"]]),
                         book.n_customers, p=[0.4, 0.3, 0.2, 0.1])
    opting = np.flatnonzero(holders & (u[0] < 5e-5) & ((book.opt_out >> channel) & 1 == 0))
    book.opt_out[opting] |= (1 << channel[opting]).astype(np.int16)
    events.add(opting, -1, _EV["opt_out"], channel[opting],
               rng.integers(7 * 3600, 23 * 3600, len(opting)))
    refusing = np.flatnonzero(holders & ~book.do_not_contact
                              & (u[1] < np.where(behind, 1e-4, 1e-5)))
    book.do_not_contact[refusing] = True
    events.add(refusing, -1, _EV["do_not_contact"], -1,
               rng.integers(9 * 3600, 17 * 3600, len(refusing)))
    dying = np.flatnonzero(holders & ~book.deceased & (u[2] < 4e-6))
    book.deceased[dying] = True
    events.add(dying, -1, _EV["deceased"],
               np.where(u[3][dying] < 0.5, _CH["letter"], _CH["phone"]),
               rng.integers(9 * 3600, 17 * 3600, len(dying)))
    bankrupt_rate = np.where(book.cust_us, 3e-5, 2e-6) * np.exp(0.7 * book.z)
    failing = np.flatnonzero(holders & ~book.bankrupt & (u[4] < bankrupt_rate))
    book.bankrupt[failing] = True
    events.add(failing, -1, _EV["bankruptcy"], _CH["letter"],
               rng.integers(9 * 3600, 17 * 3600, len(failing)))
    return events.parts
