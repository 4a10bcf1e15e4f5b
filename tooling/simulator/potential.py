"""The truth of a treatment: an account's probability of being back to M0 within 30 nights under
a treatment factor (``treatments.TreatmentWorld.cure_multiplier``), from the same probability
functions the book samples (``_Book._delinquent_payments``) and the truth's boost chain.

Exact for an account with one missed instalment but for the drift of latent risk over the
window, a dispute, freeze or opt-out starting within it, and a second payment after a non-curing
one; for an account with more instalments it overstates (it counts a pay-the-oldest event as a
cure until the next due date).
"""

from __future__ import annotations

import numpy as np

from models.buckets import bucket_index
from tooling.simulator.behaviour import (
    _BOOST_DAYS,
    _BUCKET_EVENT,
    _CALL_ATTEMPT,
    _CURE_SHARE,
    _event_hazard,
)
from tooling.simulator.truth import _boost_chain

WINDOW = 30


def cure_probability_30d(book, acc: np.ndarray, t: int, multiplier: np.ndarray) -> np.ndarray:
    """P(back to M0 within 30 nights after night t) under a treatment factor, per account.

    The same chain as the truth's roll-forward: the account's daily payment-event probability
    (times the treatment factor, before the cap) with the lender's calls and promises followed
    exactly. Any payment event cures a single missed instalment; once the next due date has
    passed unpaid only a full cure (share _CURE_SHARE of events) does.
    """
    steps = np.arange(1, WINDOW + 1)
    dpd = (t - book.arrears_due[acc, 0])[:, None] + steps[None, :]
    bucket = bucket_index(dpd)
    base = (_event_hazard(book.risk(acc), book.account_multiplier(acc))[:, None]
            * book.date_multiplier(t + steps)[None, :] * _BUCKET_EVENT[bucket]
            * multiplier[:, None])
    called = _CALL_ATTEMPT[bucket] * book.contact_rate(acc, t)[:, None]
    left = np.clip(book.boost_until[acc] - t, 0, _BOOST_DAYS)
    state = np.where(left > 0, left + np.where(book.boost_promise[acc], _BOOST_DAYS, 0), 0)
    survival = _boost_chain(base, called, state)
    first_event = survival[:, :-1] - survival[:, 1:]
    second_due = book.next_due(acc, t)
    cures = np.where((t + steps)[None, :] > second_due[:, None], _CURE_SHARE, 1.0)
    return (first_event * cures).sum(axis=1)
