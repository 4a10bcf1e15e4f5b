"""The collections assets in real Dagster runs over a hand-made night: tiers, plan, batch files.

The book (NIGHT = 2026-05-03): one account per tier, Chinese and US customers, and hostile names.
Accounts (customer = same number):
  1 M0 current, nothing due soon          -> no tier
  2 M1 CN, name <script>alert(1)</script> -> T1 soft: SMS + e-mail
  3 M2 CN, name =HYPERLINK("http://x","y")-> T2 (unscored M2 = low risk): SMS + call task
  4 M3 CN, name with right-to-left marks  -> T3 formal: print letter + e-mail + call task
  5 M3 US, English                        -> T3: Regulation F validation notice + e-mail + call
  6 M5 CN                                 -> T4: final notice + specialist task + field review
  7 WO                                    -> T5: recovery / legal review task
"""

import csv
import email
import email.policy
import json
import subprocess
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from tests.conftest import customer_row, snapshot_row, use_home, write_night

NIGHT = date(2026, 5, 3)
HOSTILE = {2: "<script>alert(1)</script>", 3: '=HYPERLINK("http://x","y")',
           4: "\u202eAli\u200f Hassan\u202c"}
SELECTION = ["account_snapshots", "customers", "contact_events", "account_features",
             "collection_tiers", "contact_history", "letter_batches", "credit_line_actions",
             "cure_rates"]


def delinquent(number: int, dpd: int, past_due: str, night: date = NIGHT, **overrides) -> dict:
    return snapshot_row(night, number, days_past_due=str(dpd), past_due_amount=past_due,
                        balance="5432.10", **overrides)


def book(night: date = NIGHT) -> tuple[list[dict], list[dict]]:
    """Tonight's book; the night before, accounts 2-6 sit a tier lower (so tonight is a tier
    entry and cadence lets every contact through)."""
    tonight = night == NIGHT
    snapshots = [
        snapshot_row(night, 1),
        delinquent(2, 12, "250.00", night) if tonight else snapshot_row(night, 2),
        delinquent(3, 40, "500.00", night) if tonight else snapshot_row(night, 3),
        delinquent(4, 75 if tonight else 60, "1234.56", night),
        delinquent(5, 70 if tonight else 60, "800.00", night, currency="USD"),
        delinquent(6, 130 if tonight else 45, "3000.00", night),
        delinquent(7, 200, "5432.10", night, status="charged_off"),
    ]
    customers = [customer_row(n, mobile_phone=f"+861380013800{n}", email=f"c{n}@example.cn",
                              postal_address=f"朝阳区建国路{n}号",
                              **({"full_name": HOSTILE[n]} if n in HOSTILE else {}))
                 for n in (1, 2, 3, 4, 6, 7)]
    customers.append(customer_row(
        5, full_name="Mary O'Brien", mobile_phone="+14155550123", email="mary@example.com",
        postal_address="12 Oak Street", city="Springfield", region="IL", postal_code="62701",
        country="US", preferred_language="en-US", timezone="America/Chicago"))
    for row in snapshots:
        # landing format 1.1: the last statement (the US notice's itemization date)
        row.update(statement_date="2026-04-20",
                   statement_balance="5300.00" if row["currency"] == "USD" else row["balance"])
    return snapshots, sorted(customers, key=lambda r: r["customer_id"])


def run(night: date) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    del job
    return dg.materialize(
        [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)],
        selection=SELECTION, partition_key=night.isoformat(),
        resources=definitions.resources, raise_on_error=False)


@pytest.fixture(scope="module")
def night_run(tmp_path_factory):
    """Two nights run one after the other (the US notice itemizes from the earlier one)."""
    home = tmp_path_factory.mktemp("collections_home")
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        snapshots, customers = book()
        earlier = NIGHT - timedelta(days=1)
        write_night(home, earlier, book(earlier)[0], customers)
        write_night(home, NIGHT, snapshots, customers)
        before = run(earlier)
        assert before.success, [e.message for e in before.all_events if e.is_failure]
        first = run(NIGHT)
        assert first.success, [e.message for e in first.all_events if e.is_failure]
        yield home, first


def warehouse(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def test_night_tiers_plans_and_writes_the_batch(night_run):
    home, _ = night_run
    with warehouse(home) as conn:
        tiers = dict(conn.execute(
            "select account_id, tier from collection_tiers where snapshot_date = ?",
            [NIGHT]).fetchall())
        planned = conn.execute(
            "select account_id, channel, template, status from contact_history "
            "where snapshot_date = ? and source = 'plan' order by 1, 2", [NIGHT]).fetchall()
    assert tiers == {"AC00000001": None, "AC00000002": "T1", "AC00000003": "T2",
                     "AC00000004": "T3", "AC00000005": "T3", "AC00000006": "T4",
                     "AC00000007": "T5"}
    channels = {(a, c, t) for a, c, t, _ in planned}
    assert ("AC00000005", "letter", "validation_notice") in channels
    assert ("AC00000004", "letter", "formal_demand") in channels
    assert ("AC00000006", "letter", "final_notice") in channels
    # T5 on both nights: its review task is once per tier entry, so it went out the night before
    assert ("AC00000007", "review", None) not in channels
    with warehouse(home) as conn:
        assert conn.execute("select count(*) from contact_history where account_id = 'AC00000007'"
                            " and channel = 'review'").fetchone()[0] == 1
    assert {s for *_, s in planned} == {"planned"}
    folder = home / "out" / "letters" / str(NIGHT)
    assert {p.name for p in folder.iterdir()} >= {"manifest.csv", "sms.jsonl", "email", "print",
                                                  "work_list.csv", "held.csv"}
    manifest = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    assert len({m["letter_id"] for m in manifest}) == len(manifest)
    assert {m["channel"] for m in manifest} == {"sms", "email", "letter"}


def test_rerun_of_the_night_plans_no_new_contact(night_run, monkeypatch):
    home, _ = night_run
    monkeypatch.setenv("OVERDUE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    with warehouse(home) as conn:
        before = conn.execute("select idempotency_key, letter_id, status from contact_history "
                              "order by 1").fetchall()
    second = run(NIGHT)
    assert second.success
    with warehouse(home) as conn:
        after = conn.execute("select idempotency_key, letter_id, status from contact_history "
                             "order by 1").fetchall()
    assert after == before
    history = next(e for e in second.get_asset_materialization_events()
               if e.asset_key == dg.AssetKey("contact_history"))
    assert history.materialization.metadata["new_contacts"].value == 0


def test_hostile_names_are_escaped_or_neutralised_everywhere(night_run):
    home, _ = night_run
    folder = home / "out" / "letters" / str(NIGHT)
    for path in folder.rglob("*"):
        if path.suffix in (".csv", ".jsonl"):
            text = path.read_text(encoding="utf-8")
            assert "\u202e" not in text and "\u200f" not in text, path
            rows = list(csv.reader(text.splitlines())) if path.suffix == ".csv" else []
            assert all(not cell.startswith(("=", "@", "\t")) for row in rows for cell in row)
    work = (folder / "work_list.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in work  # neutralised, still readable
    assert "Ali Hassan" in work  # bidi marks removed, the name kept
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in (folder / "email").iterdir()]
    hostile = [m for m in messages if "script" in str(m["To"])]
    assert len(hostile) == 1
    html_part = hostile[0].get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part and "<script>" not in html_part
    assert hostile[0]["To"].addresses[0].addr_spec == "c2@example.cn"  # no header injection
    letters = list(csv.DictReader((folder / "print" / "index.csv").open(encoding="utf-8")))
    assert {r["full_name"] for r in letters} >= {"Ali Hassan", "Mary O'Brien"}


def test_print_pdfs_really_hold_the_letters_in_chinese_and_english(night_run):
    home, _ = night_run
    folder = home / "out" / "letters" / str(NIGHT) / "print"
    index = list(csv.DictReader((folder / "index.csv").open(encoding="utf-8")))
    assert len(index) == 3
    text = "".join(subprocess.run(["pdftotext", str(folder / name), "-"], check=True,
                                  capture_output=True, text=True).stdout
                   for name in sorted({row["file"] for row in index}))
    assert "逾期还款催收函" in text and "逾期还款最后通知函" in text
    assert "How can you dispute the debt?" in text
    assert "1,234.56" in text
    for row in index:
        assert row["letter_id"] in text
    fonts = subprocess.run(["pdffonts", str(folder / index[0]["file"])], check=True,
                           capture_output=True, text=True).stdout
    assert "CJK" in fonts and "yes" in fonts  # embedded


def test_no_personal_data_in_any_metadata(night_run):
    _home, result = night_run
    texts = []
    for event in result.all_events:
        texts.append(json.dumps(str(event.event_specific_data), ensure_ascii=False))
        texts.append(event.message or "")
    blob = "\n".join(texts)
    for name in (*HOSTILE.values(), "Mary O'Brien", "欧阳娜娜"):
        assert name not in blob
    for secret in ("+14155550123", "mary@example.com", "12 Oak Street", "朝阳区建国路4号", "+8613800138004"):
        assert secret not in blob
