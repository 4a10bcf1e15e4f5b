"""The money every released contact states holds, recomputed without the pipeline's code.

1. A simulated book's night run through Dagster (ingest, features, collections): every SMS,
   e-mail and print letter of the batch is read back from the files a gateway or letter shop
   gets (sms.jsonl, the .eml text part, pdftotext of the PDFs) and its amounts and dates are
   checked against that night's account_snapshots row (read with pandas) and a delivery
   calendar of the test's own over collection_strategy.yaml.
2. A hand-made book: an instalment falling due between the night and a print letter's delivery
   is in the letter's amount, not in the same night's e-mail; a pre-due reminder goes out only
   before its due date. Every figure stated by hand.
"""

from __future__ import annotations

import csv
import email
import email.policy
import json
import subprocess
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import run_nights
from pipelines.lib.collections import tiering
from pipelines.lib.collections.batch import write_batch
from pipelines.lib.sql import render_sql
from tests.collections import book
from tests.collections.money_text import BREAKDOWN, Calendar, Stated, html_text, read_contact
from tests.conftest import use_home
from tooling.simulator import simulate

NIGHT = date(2026, 11, 26)  # a Thursday: a letter sent on Friday arrives after the weekend
ACCOUNTS = 4000
CALENDAR = Calendar.load()
SYMBOL = {"CNY": "¥", "USD": "$"}
PAST_DUE_TEMPLATES = {"soft_notice", "early_high", "formal_demand", "final_notice"}
BASIS_COLUMN = {"your last statement": "statement_date", "the charge-off date": "charge_off_date",
                "your last payment": "last_payment_date"}


def truth_scores(home: Path, night: date) -> pd.DataFrame:
    """account_scores of the night's current accounts from the simulator's true roll-forward
    probability, graded and flagged as the model stage does (README: cut-offs
    0.01/0.03/0.10/0.30, early warning = M0 and P >= 0.05). A model needs 35 nights of history
    and a training run, minutes this test cannot spend; T0 reminders need the early-warning
    flag. Delinquent accounts stay unscored (tiered on their bucket alone, as without a model),
    so that M1 accounts still get the soft notice."""
    truth = pd.read_parquet(home / "truth" / f"{night}.parquet")
    truth = truth[truth["bucket"] == "M0"]
    p = truth["true_roll_forward_probability"]
    early = (truth["bucket"] == "M0") & (p >= 0.05)
    return pd.DataFrame({
        "snapshot_date": pd.to_datetime(truth["snapshot_date"]).dt.date,
        "account_id": truth["account_id"], "bucket": truth["bucket"], "days_past_due": None,
        "probability": p,
        "risk_grade": pd.cut(p, [-1, 0.01, 0.03, 0.10, 0.30, 2], right=False,
                             labels=list("ABCDE")).astype(str),
        "early_warning": early, "needs_reasons": early,
        "model_version": "simulator-truth"})


@pytest.fixture(scope="module")
def simulated_night(tmp_path_factory) -> Path:
    """Two simulated nights: the first ingested as history, the second run whole (the first
    night of collections, so every tier's treatments are planned) with the true risk as scores."""
    home = tmp_path_factory.mktemp("letter_money")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        summary = simulate(home, accounts=ACCOUNTS, days=2, end_date=NIGHT, seed=13)
        run_nights(summary.start_date, summary.start_date, ["ingest"])
        with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
            conn.execute(render_sql("model/create_account_scores"))
            conn.append("account_scores", truth_scores(home, NIGHT), by_name=True)
        run_nights(NIGHT, NIGHT, ["ingest", "features", "collections"])
    return home


def _money(value) -> Decimal | None:
    return None if pd.isna(value) else Decimal(f"{value:.2f}")


def _day(value) -> date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def released_texts(folder: Path) -> list[tuple[dict, str]]:
    """Every manifest row with the text its recipient gets (an e-mail twice: its plain-text and
    its HTML part, the row's `part` saying which)."""
    manifest = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    sms = {m["letter_id"]: m["text"] for m in map(json.loads, (folder / "sms.jsonl").open(
        encoding="utf-8"))}
    pages: dict[str, list[str]] = {}
    for name in {row["path"].split("#")[0] for row in manifest if row["channel"] == "letter"}:
        text = subprocess.run(["pdftotext", "-layout", str(folder / name), "-"], check=True,
                              capture_output=True, text=True).stdout
        pages[name] = text.split("\f")
    index = {row["letter_id"]: row for row in csv.DictReader(
        (folder / "print" / "index.csv").open(encoding="utf-8"))} if pages else {}
    texts = []
    for row in manifest:
        if row["channel"] == "sms":
            text = sms[row["letter_id"]]
        elif row["channel"] == "email":
            message = email.message_from_bytes((folder / row["path"]).read_bytes(),
                                               policy=email.policy.default)
            texts.append((row | {"part": "html"},
                          html_text(message.get_body(("html",)).get_content())))
            text = message.get_body(("plain",)).get_content()
        else:
            entry = index[row["letter_id"]]
            first = int(entry["first_page"])
            text = "\n".join(pages[f"print/{entry['file']}"][first - 1:first - 1 +
                                                              int(entry["pages"])])
        texts.append((row, text))
    return texts


def expected(row: dict, snapshot: pd.Series, jurisdiction: str, night: date) -> dict:
    """What the contact must state, from the snapshot alone."""
    delivery = CALENDAR.delivery_day(jurisdiction, row["channel"], night)
    past_due, amount_due = _money(snapshot["past_due_amount"]), _money(snapshot["amount_due"])
    due = _day(snapshot["next_due_date"])
    instalment = (due, amount_due) if due and due <= delivery and amount_due > 0 else None
    to_pay = past_due + (instalment[1] if instalment else 0)
    parts = {k: _money(snapshot.get(f"past_due_{k}")) for k in BREAKDOWN}
    return {
        "delivery": delivery, "past_due": past_due, "balance": _money(snapshot["balance"]),
        "amount_due": amount_due, "next_due": due, "instalment": instalment, "to_pay": to_pay,
        "deadline": delivery + timedelta(days=CALENDAR.payment_deadline_days),
        "breakdown": parts if None not in parts.values() else None,
        "days_past_due": int(snapshot["days_past_due"]),
        "symbol": SYMBOL.get(snapshot["currency"], snapshot["currency"]),
    }


def past_due_problems(row: dict, stated: Stated, want: dict) -> list[str]:
    got = stated.amounts
    problems = []
    if stated.days_past_due != want["days_past_due"]:
        problems.append(f"days past due {stated.days_past_due}, snapshot {want['days_past_due']}")
    if row["channel"] == "sms":
        if stated.sentence != (want["to_pay"], None, want["deadline"]):
            problems.append(f"(to pay, by, deadline) {stated.sentence}, expected "
                            f"{(want['to_pay'], None, want['deadline'])}")
        return problems
    past_due = got.get("past_due", got.get("past_due_per_statement"))
    if past_due != want["past_due"]:
        problems.append(f"past due {past_due}, snapshot past_due_amount {want['past_due']}")
    if stated.breakdown != want["breakdown"]:
        problems.append(f"breakdown {stated.breakdown}, snapshot {want['breakdown']}")
    if stated.breakdown and sum(stated.breakdown.values()) != past_due:
        problems.append(f"breakdown sums to {sum(stated.breakdown.values())}, past due {past_due}")
    if ("past_due_per_statement" in got) != (want["breakdown"] is None):
        problems.append(f"'as on your statement' printed: {'past_due_per_statement' in got}, "
                        f"snapshot breakdown {want['breakdown']}")
    named = (stated.dates.get("instalment"), got["instalment"]) if "instalment" in got else None
    if named != want["instalment"]:
        problems.append(f"instalment named {named}, snapshot next_due_date {want['next_due']} "
                        f"amount_due {want['amount_due']}, delivery {want['delivery']}")
    for key, value in (("to_pay", want["to_pay"]), ("balance", want["balance"]),
                       ("not_yet_due", want["balance"] - want["to_pay"])):
        if got.get(key) != value:
            problems.append(f"{key} {got.get(key)}, expected {value}")
    if got.get("to_pay") is not None and got.get("not_yet_due") is not None \
            and got["to_pay"] + got["not_yet_due"] != got.get("balance"):
        problems.append(f"stated to pay {got['to_pay']} + not yet due {got['not_yet_due']} != "
                        f"stated balance {got.get('balance')}")
    if stated.dates.get("to_pay") != want["delivery"]:
        problems.append(f"to pay by {stated.dates.get('to_pay')}, delivery {want['delivery']}")
    if stated.dates.get("deadline") != want["deadline"]:
        problems.append(f"deadline {stated.dates.get('deadline')}, expected {want['deadline']}")
    if row["channel"] == "letter" and stated.sentence != (want["to_pay"], want["delivery"],
                                                          want["deadline"]):
        problems.append(f"letter's sentence (to pay, by, deadline) {stated.sentence}, expected "
                        f"{(want['to_pay'], want['delivery'], want['deadline'])}")
    return problems


def validation_problems(stated: Stated, want: dict, snapshot: pd.Series,
                        history: pd.DataFrame, night: date) -> list[str]:
    """Regulation F itemization: from one of its reference dates to now, as the snapshots say."""
    got, problems = stated.amounts, []
    if got.get("debt_now") != want["balance"]:
        problems.append(f"debt now {got.get('debt_now')}, snapshot balance {want['balance']}")
    column = BASIS_COLUMN.get(stated.itemization_basis)
    when = stated.dates.get("itemization")
    if column is None or when != _day(snapshot[column]):
        problems.append(f"itemization date {when} ({stated.itemization_basis}), snapshot "
                        f"{ {c: _day(snapshot[c]) for c in BASIS_COLUMN.values()} }")
        return problems
    account = history[history["account_id"] == snapshot["account_id"]]
    that_day = account[account["snapshot_date"].dt.date == when]["balance"]
    then = _money(snapshot["statement_balance"]) if column == "statement_date" else None
    then = then if then is not None else (_money(that_day.iloc[0]) if len(that_day) else None)
    after = account[(account["snapshot_date"].dt.date > when)
                    & (account["snapshot_date"].dt.date <= night)]
    payments = sum((_money(p) for p in after["payment_amount"]), Decimal("0.00"))
    net = want["balance"] - then + payments
    for key, value in (("itemization", then), ("payments_since", payments),
                       ("charges_since", max(net, 0)), ("credits_since", max(-net, 0))):
        if got.get(key) != value:
            problems.append(f"{key} {got.get(key)}, expected {value}")
    validation_end = want["delivery"] + timedelta(days=CALENDAR.validation_period_days["US"])
    if stated.validation_end != validation_end:
        problems.append(f"validation period ends {stated.validation_end}, expected "
                        f"{validation_end}")
    return problems


def check_batch(conn: duckdb.DuckDBPyConnection, folder: Path, night: date
                ) -> tuple[list[str], Counter]:
    """(failures, one per contact: letter_id, template and figures; contacts checked per kind)."""
    history = conn.table("account_snapshots").df()
    tonight = history[history["snapshot_date"].dt.date == night].set_index("account_id",
                                                                           drop=False)
    country = conn.table("customers").df().set_index("customer_id")["country"]
    failures, checked = [], Counter()
    for row, text in released_texts(folder):
        snapshot = tonight.loc[row["account_id"]]
        jurisdiction = CALENDAR.jurisdiction(country.get(snapshot["customer_id"]))
        want = expected(row, snapshot, jurisdiction, night)
        stated = read_contact(text)
        problems = [f"table lines not understood: {stated.unknown_lines}"] \
            if stated.unknown_lines else []
        if stated.currency_symbols != {want["symbol"]}:
            problems.append(f"currency {stated.currency_symbols}, snapshot {want['symbol']}")
        if row["template"] == "early_reminder":
            if stated.reminder != (want["amount_due"], want["next_due"]):
                problems.append(f"reminder {stated.reminder}, snapshot amount_due "
                                f"{want['amount_due']} due {want['next_due']}")
            if want["next_due"] is None or want["delivery"] > want["next_due"]:
                problems.append(f"reminder delivered {want['delivery']} after its due date "
                                f"{want['next_due']}")
        elif row["template"] == "validation_notice":
            problems += validation_problems(stated, want, snapshot, history, night)
        elif row["template"] in PAST_DUE_TEMPLATES:
            problems += past_due_problems(row, stated, want)
        else:
            problems.append("a template this test does not know")
        kind = f"{row['channel']}/{row['template']}.{row['locale']}"
        if row.get("part"):
            kind += f" ({row['part']} part)"
        checked[kind] += 1
        named = want["instalment"] is not None and "instalment" in stated.amounts
        checked["instalment named"] += named
        checked["instalment named in a print letter"] += named and row["channel"] == "letter"
        checked["breakdown printed"] += stated.breakdown is not None
        if problems:
            failures.append(f"{row['letter_id']} {kind} account {row['account_id']} "
                            f"(delivery {want['delivery']}): " + "; ".join(problems))
    return failures, checked


def test_every_released_contact_states_the_money_of_its_delivery_day(simulated_night):
    folder = simulated_night / "out" / "letters" / str(NIGHT)
    with duckdb.connect(str(simulated_night / "warehouse.duckdb"), read_only=True) as conn:
        failures, checked = check_batch(conn, folder, NIGHT)
    assert not failures, f"{len(failures)} contacts wrong; the first: {failures[0]}"
    # the property is not vacuous: every kind of contact, instalments and breakdowns among them
    kinds = {k.split(".")[0] for k in checked if "/" in k}
    assert kinds >= {"sms/early_reminder", "email/early_reminder", "sms/soft_notice",
                     "sms/early_high", "email/soft_notice",
                     "email/formal_demand", "letter/formal_demand", "letter/final_notice",
                     "letter/validation_notice"}, checked
    assert sum(n for k, n in checked.items() if "/" in k) >= 200, checked
    assert checked["instalment named"] >= 5, checked
    assert checked["instalment named in a print letter"] >= 1, checked
    assert checked["breakdown printed"] >= 50, checked


def test_no_contact_is_held_for_its_arithmetic_on_clean_data(simulated_night):
    folder = simulated_night / "out" / "letters" / str(NIGHT)
    held = list(csv.DictReader((folder / "held.csv").open(encoding="utf-8")))
    wrong = [f"{h['letter_id']} {h['channel']}/{h['template']}: {h['span']}" for h in held
             if h["rule"] == "letter_arithmetic"]
    assert not wrong, f"{len(wrong)} held with letter_arithmetic; the first: {wrong[0]}"


def test_the_calendar_counts_working_days_past_weekends_and_holidays():
    # the pipeline's delivery days are checked against this calendar above: its own days by hand
    assert CALENDAR.delivery_day("CN", "sms", date(2026, 11, 26)) == date(2026, 11, 27)
    assert CALENDAR.delivery_day("CN", "letter", date(2026, 11, 26)) == date(2026, 12, 2)
    assert CALENDAR.delivery_day("US", "letter", date(2026, 11, 26)) == date(2026, 12, 4)
    # sent Wednesday 30 Dec: 31 Dec, (1 Jan a holiday, the weekend), 4 and 5 Jan
    assert CALENDAR.delivery_day("CN", "letter", date(2026, 12, 29)) == date(2027, 1, 5)
    # sent Thursday 24 Dec in the US: (25 Dec, the weekend) 28, 29, 30, 31 Dec, (1 Jan) 4 Jan
    assert CALENDAR.delivery_day("US", "letter", date(2026, 12, 23)) == date(2027, 1, 4)


# ---------------------------------------------------------------- 2. a hand-made book

HAND_NIGHT = date(2026, 11, 26)


def _hand_book(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """Account 1: M3 in China, ¥1,234.56 past due (principal 1,000.00, interest 150.00, penalty
    interest 34.56, fees 50.00), balance ¥5,432.10, its next ¥250.00 due Tuesday 1 December:
    after the e-mail arrives (27 Nov), before the print letter does (2 Dec, 3 working days).
    Account 2: current, ¥300.00 due 27 Nov, flagged early warning. Account 3: current, ¥400.00
    due 26 Nov (tonight: a reminder sent tomorrow would come after it), flagged early warning."""
    night = HAND_NIGHT
    snapshots = [
        book.snapshot(night, 1, 75, past_due_amount=1234.56, balance=5432.10, amount_due=250.0,
                      next_due_date=date(2026, 12, 1), past_due_principal=1000.00,
                      past_due_interest=150.00, past_due_penalty_interest=34.56,
                      past_due_fees=50.00),
        book.snapshot(night, 2, 0, amount_due=300.0, balance=3000.0,
                      next_due_date=date(2026, 11, 27)),
        book.snapshot(night, 3, 0, amount_due=400.0, balance=4000.0, next_due_date=night),
    ]
    customers = [book.customer(n, night) for n in (1, 2, 3)]
    scores = [{"snapshot_date": night, "account_id": f"AC{n:08d}", "probability": 0.2,
               "risk_grade": "C", "early_warning": n != 1, "model_version": "v0001"}
              for n in (1, 2, 3)]
    conn = book.warehouse(snapshots, customers, scores=scores, path=tmp_path / "w.duckdb")
    tiering.build_tiers(conn, book.STRATEGY, night, night)
    tiering.plan_nights(conn, book.STRATEGY, night, night)
    summary = write_batch(conn, book.STRATEGY, night, tmp_path / "out", write_pdfs=True)
    return conn, summary.folder


def test_an_instalment_due_before_the_letter_arrives_is_in_its_amount(tmp_path):
    conn, folder = _hand_book(tmp_path)
    texts = {(row["account_id"], row["channel"], row["template"]): read_contact(text)
             for row, text in released_texts(folder) if "part" not in row}
    letter = texts[("AC00000001", "letter", "formal_demand")]
    assert letter.amounts == {
        "principal": Decimal("1000.00"), "interest": Decimal("150.00"),
        "penalty_interest": Decimal("34.56"), "fees": Decimal("50.00"),
        "past_due": Decimal("1234.56"), "instalment": Decimal("250.00"),
        "to_pay": Decimal("1484.56"), "not_yet_due": Decimal("3947.54"),
        "balance": Decimal("5432.10")}
    assert letter.dates == {"instalment": date(2026, 12, 1), "to_pay": date(2026, 12, 2),
                            "deadline": date(2026, 12, 12)}
    assert letter.sentence == (Decimal("1484.56"), date(2026, 12, 2), date(2026, 12, 12))
    assert letter.days_past_due == 75
    mail = texts[("AC00000001", "email", "formal_demand")]
    assert "instalment" not in mail.amounts  # 1 December is after the e-mail arrives
    assert (mail.amounts["to_pay"], mail.amounts["not_yet_due"]) == (Decimal("1234.56"),
                                                                      Decimal("4197.54"))
    assert mail.dates == {"to_pay": date(2026, 11, 27), "deadline": date(2026, 12, 7)}
    failures, _ = check_batch(conn, folder, HAND_NIGHT)
    assert not failures, failures


def test_a_reminder_goes_out_only_before_its_due_date(tmp_path):
    _conn, folder = _hand_book(tmp_path)
    texts = {(row["account_id"], row["channel"]): read_contact(text)
             for row, text in released_texts(folder)
             if row["template"] == "early_reminder" and "part" not in row}
    assert texts[("AC00000002", "sms")].reminder == (Decimal("300.00"), date(2026, 11, 27))
    assert texts[("AC00000002", "email")].reminder == (Decimal("300.00"), date(2026, 11, 27))
    assert not [key for key in texts if key[0] == "AC00000003"]
    held = list(csv.DictReader((folder / "held.csv").open(encoding="utf-8")))
    assert {(h["account_id"], h["rule"]) for h in held} <= {
        ("AC00000003", "reminder_after_due_date")}
    failures, _ = check_batch(_conn, folder, HAND_NIGHT)
    assert not failures, failures


def test_letters_over_the_new_year_arrive_on_working_days(tmp_path):
    """Night Tuesday 29 December 2026, sent the 30th. China: 31 Dec, (1 Jan a holiday, the
    weekend) 4, 5 Jan. US: 31 Dec, 4, 5, 6, 7 Jan; its validation period ends 30 days later."""
    night = date(2026, 12, 29)
    snapshots = [
        book.snapshot(night, 1, 75, past_due_amount=1234.56, balance=5432.10, amount_due=250.0,
                      next_due_date=date(2027, 1, 4), statement_date=None,
                      statement_balance=None),
        book.snapshot(night, 2, 70, past_due_amount=800.00, balance=2000.00, amount_due=100.0,
                      next_due_date=date(2027, 1, 20), currency="USD",
                      statement_date=date(2026, 12, 10), statement_balance=1950.00),
    ]
    customers = [book.customer(1, night),
                 book.customer(2, night, full_name="Mary O'Brien", mobile_phone="+14155550123",
                               email="mary@example.com", postal_address="12 Oak Street",
                               city="Springfield", region="IL", postal_code="62701",
                               country="US", preferred_language="en-US",
                               timezone="America/Chicago")]
    conn = book.warehouse(snapshots, customers, path=tmp_path / "w.duckdb")
    tiering.build_tiers(conn, book.STRATEGY, night, night)
    tiering.plan_nights(conn, book.STRATEGY, night, night)
    folder = write_batch(conn, book.STRATEGY, night, tmp_path / "out").folder
    texts = {(row["account_id"], row["channel"], row["template"]): read_contact(text)
             for row, text in released_texts(folder) if "part" not in row}
    china = texts[("AC00000001", "letter", "formal_demand")]
    assert (china.amounts["instalment"], china.dates["instalment"]) == (Decimal("250.00"),
                                                                        date(2027, 1, 4))
    assert china.sentence == (Decimal("1484.56"), date(2027, 1, 5), date(2027, 1, 15))
    notice = texts[("AC00000002", "letter", "validation_notice")]
    assert notice.validation_end == date(2027, 2, 6)
    assert (notice.amounts["itemization"], notice.amounts["charges_since"],
            notice.amounts["debt_now"]) == (Decimal("1950.00"), Decimal("50.00"),
                                            Decimal("2000.00"))
    assert notice.dates["itemization"] == date(2026, 12, 10)
    failures, _ = check_batch(conn, folder, night)
    assert not failures, failures
