"""What a collection treatment truly does to a simulated account: its potential outcomes.

Why it exists: a champion/challenger experiment measures a lift; only a simulator that knows each
account's outcome under every treatment can say whether the measured lift is the true one.

A treatment is what the strategy planned for the account tonight: the set of channels of its
contacts (sms, email, letter, phone, review). Under a treatment, an account's daily
payment-event probability while delinquent (the hazard the book samples cures from,
``accounts._Book._delinquent_payments``) is multiplied by the product over its channels of
``1 + effect_size x gain``, and it complains on a night with ``complaint_probability``:

* messages help a little (sms +8%, e-mail +4%, letter +12%), a daily call helps more (+30%);
* for hardship cases (a stable 12% of customers, more among the riskier) the daily call harms:
  its gain is -35% (the debtor who cannot pay is pushed away) and complaints are 12 times the base
  instead of 3 times;
* ``world="none"``: treatments do nothing; every potential outcome equals the untreated one.

The multiplier is applied before the book's cap on the daily probability, the same way in the
book and in the study's truth (``tooling.experiment_study``), so the truth is computed from the
same functions the book samples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

WORLDS = ("effect", "none")
CHANNELS = ("sms", "email", "letter", "phone", "review")
_BIT = {name: 1 << i for i, name in enumerate(CHANNELS)}
# gain of a channel on the daily payment-event probability: (ordinary, hardship case)
_GAIN = {"sms": (0.08, 0.08), "email": (0.04, 0.04), "letter": (0.12, 0.12),
         "phone": (0.30, -0.35), "review": (0.0, 0.0)}
_COMPLAINT_BASE = 0.0004           # nightly, for any delinquent account under any treatment
_COMPLAINT_PHONE = (3.0, 12.0)     # x base under a daily call: (ordinary, hardship case)
HARDSHIP_SHARE = 0.12


def channel_mask(channels: Iterable[str]) -> int:
    """The treatment as a bit mask of its channels (unknown channels are an error)."""
    mask = 0
    for channel in channels:
        if channel not in _BIT:
            raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
        mask |= _BIT[channel]
    return mask


def mask_text(mask: int) -> str:
    """The channels of a mask as text, e.g. ``sms+phone`` (empty: none)."""
    return "+".join(name for name in CHANNELS if mask & _BIT[name])


@dataclass(frozen=True)
class TreatmentWorld:
    """The potential outcomes of the simulated book: which world, and how strong the effects."""

    world: str = "effect"
    effect_size: float = 1.0

    def __post_init__(self) -> None:
        if self.world not in WORLDS:
            raise ValueError(f"treatment world must be one of {WORLDS}, got {self.world!r}")
        if not 0 <= self.effect_size <= 2:
            raise ValueError(f"effect size must be between 0 and 2, got {self.effect_size}")

    def _active(self) -> bool:
        return self.world == "effect" and self.effect_size > 0

    def cure_multiplier(self, mask: np.ndarray, hardship: np.ndarray) -> np.ndarray:
        """Factor on the daily payment-event probability, per account (mask 0: untreated)."""
        mask = np.asarray(mask, np.int64)
        factor = np.ones(mask.shape)
        if not self._active():
            return factor
        hardship = np.asarray(hardship, bool)
        for channel, (ordinary, hard) in _GAIN.items():
            has = (mask & _BIT[channel]) > 0
            gain = np.where(hardship, hard, ordinary) * self.effect_size
            factor = np.where(has, factor * (1 + gain), factor)
        return factor

    def complaint_probability(self, mask: np.ndarray, hardship: np.ndarray) -> np.ndarray:
        """Nightly probability that a treated delinquent account complains."""
        mask = np.asarray(mask, np.int64)
        base = np.where(mask > 0, _COMPLAINT_BASE, 0.0)
        if not self._active():
            return base
        phone = (mask & _BIT["phone"]) > 0
        times = np.where(np.asarray(hardship, bool), _COMPLAINT_PHONE[1], _COMPLAINT_PHONE[0])
        return np.where(phone, base * (1 + (times - 1) * self.effect_size), base)


def hardship_flags(customer_risk: np.ndarray, seed: int) -> np.ndarray:
    """Which customers are hardship cases: stable per seed, likelier among the riskier.

    Drawn from its own generator so the book's other random streams are unchanged.
    """
    rng = np.random.default_rng([seed, 19_019])
    logit = np.log(HARDSHIP_SHARE / (1 - HARDSHIP_SHARE)) + 0.5 * np.asarray(customer_risk)
    return rng.random(len(customer_risk)) < 1 / (1 + np.exp(-logit))


def arm_of(seed: int, experiment_id: str, customer_id: str, challenger_share: float,
           holdout_share: float = 0.0) -> str:
    """The experiment arm of a customer, as the pipeline assigns it (sql/experiments/
    assign_arms.sql): u = the first 15 hex digits of sha256(seed|experiment_id|customer_id) /
    16^15; holdout below the holdout share, challenger below holdout + challenger, else champion."""
    digest = hashlib.sha256(f"{seed}|{experiment_id}|{customer_id}".encode()).hexdigest()
    u = int(digest[:15], 16) / 16**15
    if u < holdout_share:
        return "holdout"
    if u < holdout_share + challenger_share:
        return "challenger"
    return "champion"
