"""What the gateways and the collectors report back about last night's contacts.

Why it exists: the pipeline plans contacts; only a feed of their outcomes closes the loop. The
simulator reads the released batch of the night before the way an SMS gateway, a mail house and a
collector see it (letter ids in ``manifest.csv``, contact ids in ``work_list.csv``), and writes
``landing/contact_outcomes/<night>.csv`` in the shared interface's columns:

* messages: SMS ``delivered`` or ``failed``, e-mail ``delivered`` or ``bounced``, letter ``sent``
  or ``returned``; a customer's bad destination (a stable 4% per channel) always fails, others
  fail now and then;
* phone tasks: ``no_answer`` (the customer's connect probability decides), ``wrong_party``,
  or a right-party contact ending ``promise_to_pay`` (amount: the past due of the work list;
  date: 3-10 days on), ``dispute_raised``, ``hardship_claimed`` (hardship cases), ``refused``;
  review tasks (credit-line, field visit, legal) are not calls and get no outcome;
* ``complaint``: drawn from the account's potential outcome under the treatment it got.

It also returns, per account, the channel mask it was treated with and who promised, so the
book's payments follow the potential outcome (``treatments.py``) and a promise boosts the cure
probability the way a connected call with a promise does in the book.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import yaml

from tooling.simulator.treatments import TreatmentWorld, channel_mask

OUTCOME_COLUMNS = ("outcome_id", "contact_id", "outcome_time", "outcome", "promised_amount",
                   "promised_date", "offer_id", "agent_id", "agency_id", "source")
MESSAGE_CHANNELS = ("sms", "email", "letter")
_FAILED = {"sms": "failed", "email": "bounced", "letter": "returned"}
_DONE = {"sms": "delivered", "email": "delivered", "letter": "sent"}
_BAD_DESTINATION = 0.04
_TRANSIENT_FAILURE = 0.01
_WRONG_PARTY, _DISPUTE, _REFUSED, _HARDSHIP_CLAIM = 0.04, 0.02, 0.15, 0.5
_PROMISE_SHARE = 0.45
_AGENTS = tuple(f"AG{n:03d}" for n in range(1, 9))


@dataclass
class NightOutcomes:
    """What one night's outcomes file says, per account index, for the book."""

    path: Path | None
    rows: int = 0
    treated: dict[int, int] = field(default_factory=dict)   # account -> channel mask
    promised: set[int] = field(default_factory=set)
    connected: set[int] = field(default_factory=set)
    by_outcome: dict[str, int] = field(default_factory=dict)


def phone_queues(strategy_path: Path) -> frozenset[str]:
    """The work-list queues whose tasks are calls (the strategy's phone contacts)."""
    strategy = yaml.safe_load(strategy_path.read_text(encoding="utf-8"))
    return frozenset(contact["queue"] for treatment in strategy["treatments"].values()
                     for contact in treatment.get("contacts", ())
                     if contact.get("channel") == "phone" and contact.get("queue"))


def _stable(seed: int, *parts: str) -> float:
    """A uniform number fixed by its parts: a customer's bad number stays bad every night."""
    digest = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _index(account_id: str) -> int:
    return int(account_id.removeprefix("AC")) - 1


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_outcomes(home: Path, planned_night: date, night: date, *, seed: int,
                   world: TreatmentWorld, hardship: np.ndarray, customer_of: np.ndarray,
                   connect: np.ndarray, strategy_path: Path, rng: np.random.Generator,
                   work_list_back: bool = False) -> NightOutcomes:
    """Write ``landing/contact_outcomes/<night>.csv`` for the batch released on ``planned_night``.

    ``hardship`` and ``connect`` are per customer index, ``customer_of`` per account index. A
    night without a released batch (none, or blocked) writes a header-only file.
    ``work_list_back``: the calls' dispositions go where a collector puts them, in the released
    work list's disposition columns, returned as ``landing/work_list_outcomes/<night>.csv``
    (every row, the review tasks' left blank); the receipts and complaints stay in the feed.
    """
    batch = home / "out" / "letters" / planned_night.isoformat()
    messages = _read(batch / "manifest.csv")
    calls = [row for row in _read(batch / "work_list.csv")
             if row.get("queue") in phone_queues(strategy_path)]
    result = NightOutcomes(None)
    for row in messages:
        if row["channel"] in MESSAGE_CHANNELS:
            i = _index(row["account_id"])
            result.treated[i] = result.treated.get(i, 0) | channel_mask([row["channel"]])
    for row in calls:
        i = _index(row["account_id"])
        result.treated[i] = result.treated.get(i, 0) | channel_mask(["phone"])

    rows: list[dict] = []
    stamp = f"{planned_night.isoformat()}T19:30:00+08:00"

    filled: dict[str, dict] = {}

    def add(contact_id: str, outcome: str, source: str, **extra) -> None:
        result.by_outcome[outcome] = result.by_outcome.get(outcome, 0) + 1
        if work_list_back and source == "work_list":
            filled[contact_id] = {
                "outcome": outcome, "outcome_time": stamp, "agent_id": extra.get("agent_id", ""),
                "right_party_contact": "no" if outcome in ("no_answer", "wrong_party") else "yes",
                "promise_amount": extra.get("promised_amount", ""),
                "promise_date": extra.get("promised_date", "")}
            return
        rows.append({"outcome_id": f"OC{night:%Y%m%d}{len(rows) + 1:06d}",
                     "contact_id": contact_id, "outcome_time": stamp, "outcome": outcome,
                     "source": source} | extra)

    complained: set[int] = set()
    for row in messages:
        channel = row["channel"]
        if channel not in MESSAGE_CHANNELS:
            continue
        bad = _stable(seed, row["customer_id"], channel) < _BAD_DESTINATION
        failed = bad or rng.random() < _TRANSIENT_FAILURE
        add(row["letter_id"], _FAILED[channel] if failed else _DONE[channel], "gateway")
    for row in calls:
        i = _index(row["account_id"])
        customer = customer_of[i]
        agent = _AGENTS[int(_stable(seed, row["queue"], row["contact_id"]) * len(_AGENTS))]
        if rng.random() >= connect[customer]:
            add(row["contact_id"], "no_answer", "work_list", agent_id=agent)
            continue
        u = rng.random()
        if u < _WRONG_PARTY:
            add(row["contact_id"], "wrong_party", "work_list", agent_id=agent)
            continue
        result.connected.add(i)
        if u < _WRONG_PARTY + _DISPUTE:
            outcome = "dispute_raised"
        elif hardship[customer] and rng.random() < _HARDSHIP_CLAIM:
            outcome = "hardship_claimed"
        elif rng.random() < _PROMISE_SHARE:
            outcome = "promise_to_pay"
        elif rng.random() < _REFUSED / (1 - _PROMISE_SHARE):
            outcome = "refused"
        else:
            outcome = "right_party_contact"
        if outcome == "promise_to_pay":
            amount = Decimal(row.get("past_due_amount") or "0")
            if amount <= 0:
                outcome = "right_party_contact"
            else:
                result.promised.add(i)
                add(row["contact_id"], outcome, "work_list", agent_id=agent,
                    promised_amount=f"{amount:.2f}",
                    promised_date=(planned_night + timedelta(days=int(rng.integers(3, 11))))
                    .isoformat())
                continue
        add(row["contact_id"], outcome, "work_list", agent_id=agent)

    treated = np.array(sorted(result.treated), np.int64)
    if len(treated):
        mask = np.array([result.treated[i] for i in treated], np.int64)
        chance = world.complaint_probability(mask, hardship[customer_of[treated]])
        first_contact = {}
        for row in messages:
            first_contact.setdefault(_index(row["account_id"]), row["letter_id"])
        for row in calls:
            first_contact.setdefault(_index(row["account_id"]), row["contact_id"])
        for i, p in zip(treated, chance, strict=True):
            if rng.random() < p and int(i) not in complained:
                complained.add(int(i))
                add(first_contact[int(i)], "complaint", "gateway")

    path = home / "landing" / "contact_outcomes" / f"{night.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, OUTCOME_COLUMNS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in OUTCOME_COLUMNS})
    result.path, result.rows = path, len(rows) + len(filled)
    if work_list_back:
        _return_work_list(home, batch, night, filled)
    return result


def _return_work_list(home: Path, batch: Path, night: date, filled: dict[str, dict]) -> Path:
    """The released work list with the collectors' dispositions filled in, as they return it."""
    source = batch / "work_list.csv"
    path = home / "landing" / "work_list_outcomes" / f"{night.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    released = _read(source)
    header = next(csv.reader(source.open(encoding="utf-8-sig"))) if source.exists() else \
        ["contact_id"]
    header += [c for c in ("outcome", "right_party_contact", "promise_amount", "promise_date",
                           "outcome_time", "agent_id") if c not in header]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        for row in released:
            writer.writerow(row | filled.get(row["contact_id"], {}))
    return path
