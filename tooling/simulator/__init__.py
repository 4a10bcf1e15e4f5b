"""Simulated consumer-credit book: the nightly landing files of DOMAIN §7 and the truth behind them.

Why it exists: every later stage (ingest, features, roll rates, the model, tiers, letters) needs
realistic nights to run on, and the tests need to know the answer. The simulator writes what a
lender's systems would drop each night and, beside it, what only the simulator knows.

Output, for every night D from ``start_date`` to ``end_date``::

    <home>/landing/account_snapshots/D.csv   one row per account that exists that night
    <home>/landing/customers/D.csv           every customer on the first night, then new or changed
    <home>/landing/contact_events/D.csv      what happened that night (header only when nothing)
    <home>/truth/D.parquet                   latent risk, true roll-forward probability, bucket

``file_format="parquet"`` writes the three landing feeds as ``D.parquet`` instead (amounts
decimal(18,2), dates date32, days_past_due int32; ``event_time`` stays ISO 8601 text with the
customer's UTC offset, which a parquet timestamp could not keep).

Dynamics, in short (all amounts in integer cents, state in numpy arrays, one loop over days):

* Customers carry a latent risk (standard normal, a slow random walk); an account's risk adds its
  vintage's underwriting quality (a loosened period 9-5 months before the start is worse) and a
  small account-level term.
* Monthly statement cycles: statement on a fixed day (1-28), due 18-25 days later. Minimum due is
  max(1% of balance + interest + fees, a floor) for ``revolving`` or the instalment for
  ``installment``. At the statement a current customer decides to pay in full, at least the
  minimum, partially (below the minimum) or nothing, on a pay day uniform between statement and
  due date. The miss probability is logistic in risk, utilisation, early months on book and the
  macro shock (``macro_shock_size`` is added to its log-odds from ``macro_shock_date`` on).
* Spending on revolving cards is seasonal: 618 (June) and Double 11 / Double 12 for CN, Black
  Friday and the holidays for US customers.
* A minimum left unpaid after its due date becomes an arrears instalment; DPD counts from the
  oldest one. While delinquent, each day the customer may cure (pay all past due and the current
  minimum), pay only the oldest instalment (DPD falls to the age of the next-oldest: a roll-back),
  or pay a token amount that changes nothing. These daily probabilities fall with risk, with the
  bucket and under the macro shock. DPD > 180 charges the account off; charged-off accounts stay in
  the file with DPD growing and occasional recoveries.
* The lender calls delinquent accounts (call_attempt / call_connected, 09:00-20:30 local time); a
  connected call multiplies the daily cure probability for 7 days (by 3.0 when the customer made a
  promise to pay, else 1.6). Disputes and do-not-contact, opt-out of the phone, deceased and
  bankruptcy suppress calls; deceased and bankrupt customers' accounts are frozen.
* Accounts open over time (book growth plus the loosened vintage), installment loans close when
  paid off or prepaid, zero-balance cards close at a low rate and drop out 30 days after closing.

Truth (``true_roll_forward_probability``): the probability that the account's bucket on the same
day next month (DOMAIN §2 clamping) is worse than tonight's, computed from the same probability
functions the simulator samples from. It is exact for the event model except for these documented
approximations (together a fraction of a percentage point on the book's mean):

* future latent-risk drift and utilisation changes are ignored (tonight's values are used);
* disputes, suppressions and account status are assumed to stay as they are tonight, and
  closures and prepayments of current accounts are ignored;
* whether a zero-balance card will owe anything at its next statement is estimated from its daily
  spending probability;
* an account missing a due date in the window starts its delinquency with no call boost;
* for an account with two or more arrears instalments only one "pay the oldest" event is counted;
* when two due dates fall inside the month, the two misses are treated as independent.

The call/promise boost is handled exactly with a 15-state Markov chain (no boost, or 1-7 boosted
days left after a connected call without or with a promise), per delinquent account and, for
current accounts, through a cached table over risk and contact rate.
"""

from __future__ import annotations

import calendar
import logging
import sys
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.lib.ingest.contracts import load_contract

logger = logging.getLogger(__name__)

SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(load_contract("account_snapshots").column_names)
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(load_contract("customers").column_names)
CONTACT_COLUMNS: tuple[str, ...] = (
    "event_id", "event_time", "customer_id", "account_id", "event_type", "channel", "amount",
    "until_date",
)
TRUTH_COLUMNS: tuple[str, ...] = (
    "snapshot_date", "account_id", "latent_risk", "true_roll_forward_probability", "bucket",
)
FEEDS: tuple[str, ...] = ("account_snapshots", "customers", "contact_events")
BUCKETS: tuple[str, ...] = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "WO")
EVENT_TYPES: tuple[str, ...] = (
    "dispute_opened", "dispute_closed", "complaint", "promise_to_pay", "opt_out", "do_not_contact",
    "deceased", "bankruptcy", "call_attempt", "call_connected",
)
CHANNELS: tuple[str, ...] = ("sms", "email", "phone", "letter", "app", "visit")
TIMEZONES: tuple[str, ...] = (
    "Asia/Shanghai", "Asia/Urumqi", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
)

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
_RECOVERY_RATE = 0.004
_PREPAY_RATE = 0.0008
_CLOSE_RATE = 0.0005
_DROP_AFTER_DAYS = 30
_FREEZE_RATE, _UNFREEZE_RATE = 0.00003, 0.03

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote, so callers can log it and find the files."""

    start_date: date
    end_date: date
    accounts: int
    customers: int
    files: list[Path]
    rows: dict[str, int] = field(default_factory=dict)  # rows written per feed (and "truth")
    file_format: str = "csv"
    seed: int = 7


def simulate(home: Path, *, accounts: int = 20_000, days: int = 180, end_date: date | None = None,
             seed: int = 7, file_format: str = "csv", macro_shock_date: date | None = None,
             macro_shock_size: float = 0.5, progress: bool = False) -> SimulationSummary:
    """Write ``days`` nights of landing files and truth for a book of ``accounts`` accounts.

    Deterministic: the same arguments give the same bytes.

    Args:
        home: the overdue home; files go under ``home/landing`` and ``home/truth``.
        accounts: accounts that exist at some point of the simulation (some open during it).
        days: number of nights, ending at ``end_date``.
        end_date: the last night; default yesterday.
        seed: random seed.
        file_format: ``"csv"`` or ``"parquet"`` for the landing feeds (truth is always parquet).
        macro_shock_date: from this night on, misses are likelier and cures rarer.
        macro_shock_size: the shock's addition to the log-odds of a missed payment.
        progress: draw a progress line on stderr.

    Returns:
        The dates, counts and files written.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, got {accounts}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    if macro_shock_size < 0:
        raise ValueError(f"macro_shock_size must be >= 0, got {macro_shock_size}")
    end_date = end_date or (date.today() - timedelta(days=1))
    start_date = end_date - timedelta(days=days - 1)
    home = Path(home)
    for feed in FEEDS:
        (home / "landing" / feed).mkdir(parents=True, exist_ok=True)
    (home / "truth").mkdir(parents=True, exist_ok=True)

    files: list[Path] = []
    rows = {feed: 0 for feed in FEEDS} | {"truth": 0}
    with _without_huge_pages(), ThreadPoolExecutor(2, thread_name_prefix="simulate") as pool:
        book = _Book(accounts, start_date, end_date, seed, macro_shock_date, macro_shock_size, pool,
                     home, file_format)
        for number in range(days):
            night = start_date + timedelta(days=number)
            book.step(night)
            written = book.write_night(home, night, file_format, pool)
            for name, (path, count) in written.items():
                files.append(path)
                rows[name] += count
            if progress:
                _draw_progress(number + 1, days, night)
    if progress:
        sys.stderr.write("\n")
        sys.stderr.flush()
    summary = SimulationSummary(start_date, end_date, int(book.accounts_seen.sum()),
                                int(book.customers_written.sum()), files, rows, file_format, seed)
    logger.info("simulated %d accounts / %d customers, %s..%s, %d files under %s",
                summary.accounts, summary.customers, start_date, end_date, len(files), home)
    return summary


@contextmanager
def _without_huge_pages():
    """Stop numpy advising transparent huge pages while simulating, then restore the setting.

    With the kernel's synchronous compaction for advised regions, every fresh temporary array
    paid milliseconds of page-fault time: about a third of a large book's run time.
    """
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    previous = setter(False) if setter is not None else None
    try:
        yield
    finally:
        if setter is not None:
            setter(previous)


def _draw_progress(done: int, total: int, night: date) -> None:
    """One overwritten stderr line: long runs should show they are alive without a dependency."""
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\rsimulate [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {night}")
    sys.stderr.flush()


# --- calendar ---------------------------------------------------------------------------------

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


def bucket_of(days_past_due: np.ndarray, charged_off: np.ndarray | None = None) -> np.ndarray:
    """Bucket codes 0..7 (M0..M6, WO) from DPD and the charged-off flag (DOMAIN §1)."""
    dpd = np.asarray(days_past_due)
    bucket = np.where(dpd <= 0, 0, np.minimum((dpd + 29) // 30, 6))
    bucket = np.where(dpd > 180, 7, bucket)
    if charged_off is not None:
        bucket = np.where(charged_off, 7, bucket)
    return bucket.astype(np.int8)


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


# --- people: names, phones, e-mails, addresses ------------------------------------------------

_CN_SURNAMES = (  # (surname, pinyin, weight): common surnames by rough frequency
    ("王", "wang", 72), ("李", "li", 71), ("张", "zhang", 68), ("刘", "liu", 52), ("陈", "chen", 45),
    ("杨", "yang", 33), ("黄", "huang", 24), ("赵", "zhao", 20), ("吴", "wu", 19), ("周", "zhou", 19),
    ("徐", "xu", 14), ("孙", "sun", 13), ("马", "ma", 12), ("朱", "zhu", 12), ("胡", "hu", 11),
    ("郭", "guo", 11), ("何", "he", 10), ("高", "gao", 10), ("林", "lin", 10), ("罗", "luo", 9),
    ("郑", "zheng", 9), ("梁", "liang", 9), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 7),
    ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 6),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5),
    ("袁", "yuan", 5), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 4),
    ("魏", "wei", 4), ("吕", "lv", 4), ("丁", "ding", 4), ("任", "ren", 4), ("沈", "shen", 3),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 3), ("夏", "xia", 3), ("韦", "wei", 3),
    ("付", "fu", 2), ("方", "fang", 2), ("白", "bai", 2), ("邹", "zou", 2), ("孟", "meng", 2),
    ("熊", "xiong", 2), ("秦", "qin", 2), ("邱", "qiu", 2), ("江", "jiang", 2), ("尹", "yin", 2),
    ("薛", "xue", 2), ("闫", "yan", 2), ("段", "duan", 2), ("雷", "lei", 2), ("侯", "hou", 2),
    ("龙", "long", 2), ("史", "shi", 2), ("陶", "tao", 2), ("黎", "li", 2), ("贺", "he", 2),
    ("顾", "gu", 2), ("毛", "mao", 2), ("郝", "hao", 2), ("龚", "gong", 2), ("邵", "shao", 2),
    ("万", "wan", 2), ("钱", "qian", 2), ("覃", "qin", 2), ("武", "wu", 2), ("戴", "dai", 2),
    ("莫", "mo", 1), ("孔", "kong", 1), ("向", "xiang", 1), ("汤", "tang", 1),
    # compound surnames
    ("欧阳", "ouyang", 1.2), ("司马", "sima", 0.6), ("诸葛", "zhuge", 0.4), ("上官", "shangguan", 0.4),
    ("东方", "dongfang", 0.3), ("皇甫", "huangfu", 0.3), ("令狐", "linghu", 0.2),
    ("慕容", "murong", 0.2), ("尉迟", "yuchi", 0.2), ("长孙", "zhangsun", 0.2),
    ("公孙", "gongsun", 0.2), ("司徒", "situ", 0.3), ("夏侯", "xiahou", 0.2),
    # rare single surnames
    ("亓", "qi", 0.2), ("禤", "xuan", 0.1), ("厍", "she", 0.1), ("蒯", "kuai", 0.1), ("仝", "tong", 0.2),
)
_CN_GIVEN = tuple(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉玲丹萍鹏宇浩凯婷雪琳晨欣怡佳俊博"
    "子轩梓涵一诺依宸睿泽思雨嘉瑞悦天佑安然晓东志红波飞斌海鑫云莉颖倩璐慧春梅峰亮成永健宁欢"
)
_CN_GIVEN_RARE = ("喆", "堃", "燚", "犇", "淼", "赟", "珺", "昳", "曌", "龑", "䶮", "玥", "彧", "翀",
                  "骉", "垚", "焱", "懿", "瑄", "祎", "𠮷", "昇", "旻", "玙")
_MINORITY_NAMES = (  # Uyghur / Kazakh names with the middle dot, and Tibetan / Mongolian names
    "阿卜杜·热合曼", "买买提·艾力", "艾合买提·吐尔逊", "努尔·穆罕默德", "阿依古丽·阿不都",
    "古丽米拉·买买提", "迪丽热巴·迪力木拉提", "热依拉·肉孜", "吐尔逊·卡德尔", "艾尼瓦尔·伊明",
    "阿力木·克里木", "帕提古丽·司马义", "叶尔兰·努尔兰", "阿依达娜·叶尔肯", "扎西次仁",
    "央金卓玛", "巴特尔", "其其格", "格桑梅朵", "阿卜杜外力·吐尔洪",
)
_CN_PLACES = (  # (region, city, ((district, postal code), ...), weight, share on Asia/Urumqi)
    ("北京市", "北京市", (("朝阳区", "100020"), ("海淀区", "100080"), ("东城区", "100010"),
                       ("丰台区", "100071")), 6, 0),
    ("上海市", "上海市", (("浦东新区", "200120"), ("徐汇区", "200030"), ("静安区", "200040"),
                       ("闵行区", "201100")), 6, 0),
    ("天津市", "天津市", (("和平区", "300041"), ("南开区", "300100")), 2.5, 0),
    ("重庆市", "重庆市", (("渝中区", "400010"), ("江北区", "400020")), 3, 0),
    ("广东省", "广州市", (("天河区", "510630"), ("越秀区", "510030"), ("海珠区", "510220")), 6, 0),
    ("广东省", "深圳市", (("南山区", "518052"), ("福田区", "518048"), ("宝安区", "518101")), 6, 0),
    ("广东省", "东莞市", (("南城街道", "523070"), ("东城街道", "523125")), 2, 0),
    ("浙江省", "杭州市", (("西湖区", "310012"), ("上城区", "310002"), ("余杭区", "311100")), 4, 0),
    ("浙江省", "宁波市", (("鄞州区", "315100"),), 2, 0),
    ("江苏省", "南京市", (("鼓楼区", "210008"), ("玄武区", "210018")), 3, 0),
    ("江苏省", "苏州市", (("姑苏区", "215000"), ("吴中区", "215100")), 3, 0),
    ("山东省", "济南市", (("历下区", "250011"),), 2, 0),
    ("山东省", "青岛市", (("市南区", "266001"), ("黄岛区", "266400")), 2, 0),
    ("四川省", "成都市", (("武侯区", "610041"), ("锦江区", "610021"), ("成华区", "610051")), 4, 0),
    ("湖北省", "武汉市", (("洪山区", "430070"), ("江汉区", "430015")), 3, 0),
    ("湖南省", "长沙市", (("岳麓区", "410006"), ("芙蓉区", "410011")), 2.5, 0),
    ("河南省", "郑州市", (("金水区", "450003"), ("二七区", "450052")), 3, 0),
    ("河北省", "石家庄市", (("长安区", "050011"),), 2, 0),
    ("陕西省", "西安市", (("雁塔区", "710061"), ("碑林区", "710001")), 2.5, 0),
    ("福建省", "厦门市", (("思明区", "361001"),), 1.5, 0),
    ("福建省", "福州市", (("鼓楼区", "350001"),), 1.5, 0),
    ("安徽省", "合肥市", (("蜀山区", "230031"),), 2, 0),
    ("辽宁省", "沈阳市", (("和平区", "110001"),), 2, 0),
    ("辽宁省", "大连市", (("中山区", "116001"),), 1.5, 0),
    ("黑龙江省", "哈尔滨市", (("南岗区", "150001"),), 1.5, 0),
    ("吉林省", "长春市", (("朝阳区", "130012"),), 1, 0),
    ("云南省", "昆明市", (("五华区", "650032"),), 1.5, 0),
    ("贵州省", "贵阳市", (("云岩区", "550001"),), 1, 0),
    ("广西壮族自治区", "南宁市", (("青秀区", "530022"),), 1.5, 0),
    ("江西省", "南昌市", (("东湖区", "330006"),), 1.5, 0),
    ("山西省", "太原市", (("小店区", "030032"),), 1, 0),
    ("内蒙古自治区", "呼和浩特市", (("新城区", "010050"),), 0.8, 0),
    ("新疆维吾尔自治区", "乌鲁木齐市", (("天山区", "830002"), ("沙依巴克区", "830000")), 1.2, 0.5),
    ("新疆维吾尔自治区", "喀什地区", (("喀什市", "844000"),), 0.4, 0.7),
    ("西藏自治区", "拉萨市", (("城关区", "850000"),), 0.3, 0),
    ("海南省", "海口市", (("美兰区", "570203"),), 0.8, 0),
    ("甘肃省", "兰州市", (("城关区", "730030"),), 0.8, 0),
    ("宁夏回族自治区", "银川市", (("兴庆区", "750001"),), 0.5, 0),
    ("青海省", "西宁市", (("城中区", "810000"),), 0.4, 0),
)
_CN_STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "长江路", "黄河路",
               "文化路", "学府路", "科技路", "光明街", "幸福街", "朝阳路", "青年路", "育才路", "东风路",
               "滨江大道", "世纪大道", "建国路", "友谊路", "花园街", "工农路")
_CN_ESTATES = ("阳光花园", "碧桂园", "万科城", "绿地中心", "金色家园", "锦绣华庭", "翠苑", "紫金苑",
               "和谐家园", "书香门第", "湖畔名邸", "世纪新城")
_US_PLACES = (  # (state, city, zip prefix, area codes, time zone, weight)
    ("NY", "New York", "100", ("212", "646", "917"), "America/New_York", 5),
    ("NY", "Brooklyn", "112", ("718", "347"), "America/New_York", 3),
    ("NY", "Flushing", "113", ("718", "929"), "America/New_York", 2),
    ("CA", "Los Angeles", "900", ("213", "310", "323"), "America/Los_Angeles", 5),
    ("CA", "San Francisco", "941", ("415", "628"), "America/Los_Angeles", 3),
    ("CA", "San Jose", "951", ("408", "669"), "America/Los_Angeles", 2),
    ("TX", "Houston", "770", ("713", "832"), "America/Chicago", 3),
    ("TX", "Dallas", "752", ("214", "469"), "America/Chicago", 3),
    ("IL", "Chicago", "606", ("312", "773"), "America/Chicago", 3),
    ("FL", "Miami", "331", ("305", "786"), "America/New_York", 3),
    ("MA", "Boston", "021", ("617", "857"), "America/New_York", 2),
    ("GA", "Atlanta", "303", ("404", "470"), "America/New_York", 2),
    ("WA", "Seattle", "981", ("206",), "America/Los_Angeles", 2),
    ("CO", "Denver", "802", ("303", "720"), "America/Denver", 2),
    ("UT", "Salt Lake City", "841", ("801", "385"), "America/Denver", 1),
    ("NM", "Albuquerque", "871", ("505",), "America/Denver", 0.7),
    ("MN", "Minneapolis", "554", ("612",), "America/Chicago", 1),
    ("NV", "Las Vegas", "891", ("702",), "America/Los_Angeles", 1),
    ("NJ", "Jersey City", "073", ("201", "551"), "America/New_York", 1),
    ("AK", "Anchorage", "995", ("907",), "America/Anchorage", 0.5),
    ("HI", "Honolulu", "968", ("808",), "Pacific/Honolulu", 0.6),
)
_US_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
             "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
             "Sarah", "Christopher", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony",
             "Ashley", "José", "María", "Zoë", "Chloé", "Renée", "André", "Seán", "Björn", "Aaliyah",
             "DeShawn", "Priya", "Mohammed", "Thảo", "Luis", "Sofía", "Jamal", "Emily", "Noah")
_US_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
            "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas",
            "Moore", "Jackson", "Martin", "Lee", "O'Brien", "O'Connor", "Smith-Jones", "Núñez",
            "García-López", "McDonald", "D'Angelo", "Nguyen", "Kim", "Patel", "Van der Berg",
            "St. John", "Müller", "Peña", "Washington", "Okafor", "Cohen", "Rossi")
_US_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave", "Washington Blvd",
               "Lake Shore Dr", "Sunset Blvd", "Pine St", "2nd Ave", "Broadway",
               "Martin Luther King Jr Blvd", "O'Farrell St", "Peachtree Rd", "Ocean Dr", "Mission St",
               "Colfax Ave", "Kalakaua Ave", "Northern Lights Blvd")
_US_BUILDINGS = ("Pines", "Sunrise", "Harbor View", "Old Mill", "Parkside", "Lofts")
_CN_MAIL = ("163.com", "126.com", "sina.com", "foxmail.com", "outlook.com")
_US_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com")
_US_ZH_GIVEN = (("Wei", "伟"), ("Mei", "梅"), ("Jun", "军"), ("Lei", "磊"), ("Xin", "欣"),
                ("Hao", "浩"), ("Ying", "英"), ("Jie", "杰"))


def _ascii(text: str) -> str:
    """E-mail-safe lower-case ASCII of a name (José Núñez -> josenunez)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@cache
def _pool(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def _pick(pool: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return _pool(tuple(pool)).take(pa.array(index, pa.int64()))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


_SURNAME_TEXT = tuple(s[0] for s in _CN_SURNAMES)
_SURNAME_PINYIN = tuple(s[1] for s in _CN_SURNAMES)
_SURNAME_WEIGHT = np.array([s[2] for s in _CN_SURNAMES], float) / sum(s[2] for s in _CN_SURNAMES)
_CN_DISTRICTS = tuple(d for p in _CN_PLACES for d in p[2])
_CN_DISTRICT_START = np.cumsum([0] + [len(p[2]) for p in _CN_PLACES])[:-1]
_CN_DISTRICT_COUNT = np.array([len(p[2]) for p in _CN_PLACES])
_CN_PLACE_WEIGHT = np.array([p[3] for p in _CN_PLACES], float) / sum(p[3] for p in _CN_PLACES)
_CN_URUMQI = np.array([p[4] for p in _CN_PLACES])
_US_WEIGHT = np.array([p[5] for p in _US_PLACES], float) / sum(p[5] for p in _US_PLACES)
_US_AREA = tuple(a for p in _US_PLACES for a in p[3])
_US_AREA_START = np.cumsum([0] + [len(p[3]) for p in _US_PLACES])[:-1]
_US_AREA_COUNT = np.array([len(p[3]) for p in _US_PLACES])
_US_ZONE = np.array([TIMEZONES.index(p[4]) for p in _US_PLACES], np.int64)


class _Parts:
    """A pool of text pieces built from named segments, so each row is a few integer indices.

    Every customer column is one join of a few ``take`` s from such pools, in final row order:
    building text row by row (or variant by variant) is what made large books slow.
    """

    def __init__(self, **segments: tuple[str, ...]):
        self.start: dict[str, int] = {}
        values: list[str] = []
        for name, texts in segments.items():
            self.start[name] = len(values)
            values.extend(texts)
        self.array = pa.array(values, pa.string())

    def take(self, index: np.ndarray) -> pa.Array:
        return self.array.take(pa.array(index, pa.int64()))


_HAN_NAMES = _Parts(surname=_SURNAME_TEXT, minority=_MINORITY_NAMES,
                    us_first=tuple(f"{f} " for f in _US_FIRST),
                    zh_romanised=tuple(f"{g[0]} " for g in _US_ZH_GIVEN))
_NAME_MIDDLE = _Parts(empty=("",), common=_CN_GIVEN, rare=_CN_GIVEN_RARE,
                      initial=tuple(f"{c}. " for c in "ABCDEFGHJKLMNPRSTW"),
                      zh_hanzi=tuple(g[1] for g in _US_ZH_GIVEN))
_NAME_LAST = _Parts(empty=("",), common=_CN_GIVEN, us_last=_US_LAST,
                    pinyin=tuple(p.capitalize() for p in _SURNAME_PINYIN))
_MAIL_LOCAL = _Parts(empty=("",), pinyin=_SURNAME_PINYIN,
                     us=tuple(f"{_ascii(f)}.{_ascii(s)}" for f in _US_FIRST for s in _US_LAST),
                     zh=tuple(f"{g[0].lower()}.{p}" for g in _US_ZH_GIVEN for p in _SURNAME_PINYIN))
_MAIL_DOMAIN = _Parts(qq=("@qq.com",), cn=tuple(f"@{d}" for d in _CN_MAIL),
                      us=tuple(f"@{d}" for d in _US_MAIL))
_ADDRESS_1 = _Parts(district=tuple(d[0] for d in _CN_DISTRICTS), empty=("",),
                    unit=tuple(f'Unit {n}{c}, "The {b}", ' for n in range(1, 40) for c in "ABCD"
                               for b in _US_BUILDINGS))
_ADDRESS_2 = _Parts(street=_CN_STREETS, house=tuple(f"{n} " for n in range(1, 9_900)))
_ADDRESS_3 = _Parts(house=tuple(f"{n}号" for n in range(1, 400)), street=_US_STREETS)
_ADDRESS_4 = _Parts(empty=("",), estate=_CN_ESTATES, yard=("院",),
                    comma_estate=tuple(f", {e}" for e in _CN_ESTATES),
                    apt=tuple(f", Apt {n}{c}" for n in range(1, 40) for c in "ABCD"),
                    hash=tuple(f" #{n}{c}" for n in range(1, 40) for c in "ABCD"))
_ADDRESS_5 = _Parts(empty=("",), dong_unit=tuple(f"{d}栋{u}单元" for d in range(1, 30)
                                                 for u in range(1, 6)),
                    lou=tuple(f"{d}号楼" for d in range(1, 30)),
                    dong=tuple(f"{d}栋" for d in range(1, 30)))
_ADDRESS_6 = _Parts(empty=("",), room=tuple(f"{f}{d:02d}" for f in range(1, 33) for d in range(1, 5)),
                    room_shi=tuple(f"{f}{d:02d}室" for f in range(1, 33) for d in range(1, 5)))
_PLACE = _Parts(cn_city=tuple(p[1] for p in _CN_PLACES), us_city=tuple(p[1] for p in _US_PLACES))
_REGION = _Parts(cn=tuple(p[0] for p in _CN_PLACES), us=tuple(p[0] for p in _US_PLACES))
_POSTAL = _Parts(cn=tuple(d[1] for d in _CN_DISTRICTS),
                 us=tuple(f"{p[2]}{n:02d}" for p in _US_PLACES for n in range(100)))


def _plus_digits(numbers: np.ndarray, widths: np.ndarray, missing: np.ndarray) -> pa.Array:
    """'+' and the number's digits as an Arrow string array, built byte-wise in numpy (fast)."""
    longest = int(widths.max()) if len(widths) else 0
    text = np.zeros((len(numbers), longest + 1), np.uint8)
    text[:, 0] = ord("+")
    rest = numbers.copy()
    for position in range(longest, 0, -1):  # right-aligned, trimmed below
        text[:, position] = ord("0") + rest % 10
        rest //= 10
    shift = longest - widths  # narrower numbers: move digits left over the leading zeros
    columns = np.arange(1, longest + 1)[None, :] + shift[:, None]
    text[:, 1:] = np.take_along_axis(text, np.minimum(columns, longest), axis=1)
    lengths = np.where(missing, 0, widths + 1)
    keep = np.arange(longest + 1)[None, :] < lengths[:, None]
    data = text[keep]
    offsets = np.zeros(len(numbers) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = pa.array(~missing).buffers()[1] if missing.any() else None
    return pa.Array.from_buffers(pa.string(), len(numbers),
                                 [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=int(missing.sum()))


@dataclass
class _People:
    """Generated customer text columns (pyarrow) and each customer's time zone (index)."""

    columns: dict[str, pa.Array]
    timezone: np.ndarray


def _generate_people(rng: np.random.Generator, is_us: np.ndarray) -> _People:
    """Names, phones, e-mails and addresses for customers of the given countries (CN or US).

    CN: Han names (compound surnames, rare characters), Uyghur/Kazakh names with the middle dot,
    +86 1[3-9] mobiles, province/city/district addresses (some with commas). US: apostrophes,
    hyphens and accents in names, a few zh-CN speakers, +1 NANP numbers, addresses with commas and
    quotes. Some e-mails and phones are missing.
    """
    n = len(is_us)
    us = is_us
    integers = lambda high: rng.integers(0, high, n)
    place = rng.choice(len(_CN_PLACES), n, p=_CN_PLACE_WEIGHT)
    district = _CN_DISTRICT_START[place] + integers(1 << 30) % _CN_DISTRICT_COUNT[place]
    us_place = rng.choice(len(_US_PLACES), n, p=_US_WEIGHT)
    xinjiang = (_CN_URUMQI[place] > 0) & ~us
    on_urumqi = rng.random(n) < _CN_URUMQI[place]
    surname = rng.choice(len(_CN_SURNAMES), n, p=_SURNAME_WEIGHT)
    first, last = integers(len(_US_FIRST)), integers(len(_US_LAST))
    zh_given = integers(len(_US_ZH_GIVEN))
    chinese_american = us & (rng.random(n) < 0.08)

    # names: three pieces per row
    minority = ~us & (rng.random(n) < np.where(xinjiang, 0.6, 0.01))
    hanzi = rng.random(n) < 0.5
    rare = rng.random(n) < 0.03
    middle_initial = rng.random(n) < 0.15
    two_characters = rng.random(n) < 0.7
    h, m, l3 = _HAN_NAMES.start, _NAME_MIDDLE.start, _NAME_LAST.start
    piece1 = np.select(
        [minority, chinese_american & ~hanzi, us & ~chinese_american],
        [h["minority"] + integers(len(_MINORITY_NAMES)), h["zh_romanised"] + zh_given,
         h["us_first"] + first], h["surname"] + surname)
    piece2 = np.select(
        [minority, chinese_american & hanzi, chinese_american, us],
        [m["empty"], m["zh_hanzi"] + zh_given, m["empty"],
         np.where(middle_initial, m["initial"] + integers(18), m["empty"])],
        np.where(rare, m["rare"] + integers(len(_CN_GIVEN_RARE)), m["common"] + integers(len(_CN_GIVEN))))
    piece3 = np.select(
        [minority, chinese_american & hanzi, chinese_american, us],
        [l3["empty"], l3["empty"], l3["pinyin"] + surname, l3["us_last"] + last],
        np.where(two_characters, l3["common"] + integers(len(_CN_GIVEN)), l3["empty"]))
    full_name = _join(_HAN_NAMES.take(piece1), _NAME_MIDDLE.take(piece2), _NAME_LAST.take(piece3))

    # phones: the whole E.164 number as one integer
    area = _US_AREA_START[us_place] + integers(1 << 30) % _US_AREA_COUNT[us_place]
    area_code = np.array(_US_AREA, np.int64)[area]
    exchange = rng.integers(200, 1000, n)
    exchange = np.where(exchange % 100 == 11, exchange + 1, exchange)  # no N11 exchanges
    us_number = 10**10 + area_code * 10**7 + exchange * 10**4 + integers(10_000)
    cn_number = 86 * 10**11 + rng.integers(13_000_000_000, 20_000_000_000, n)
    no_phone = rng.random(n) < np.where(us, 0.03, 0.02)
    phone = _plus_digits(np.where(us, us_number, cn_number), np.where(us, 11, 13), no_phone)

    # e-mail: local part, optional number, domain
    style = rng.random(n)
    qq = ~us & (style < 0.5)
    local = np.select(
        [qq, ~us, chinese_american],
        [_MAIL_LOCAL.start["empty"], _MAIL_LOCAL.start["pinyin"] + surname,
         _MAIL_LOCAL.start["zh"] + zh_given * len(_SURNAME_PINYIN) + surname],
        _MAIL_LOCAL.start["us"] + first * len(_US_LAST) + last)
    number = np.select([qq, ~us], [rng.integers(10_000, 3_000_000_000, n), integers(100_000) + 1],
                       integers(99) + 1)
    no_number = us & (chinese_american | (rng.random(n) < 0.6))
    domain = np.select(
        [qq, ~us, chinese_american],
        [_MAIL_DOMAIN.start["qq"], _MAIL_DOMAIN.start["cn"] + integers(len(_CN_MAIL)),
         _MAIL_DOMAIN.start["us"]], _MAIL_DOMAIN.start["us"] + integers(len(_US_MAIL)))
    no_email = rng.random(n) < np.where(us, 0.05, 0.12)
    email = pc.binary_join_element_wise(
        _MAIL_LOCAL.take(local), pc.cast(pa.array(number, mask=no_number), pa.string()),
        _MAIL_DOMAIN.take(domain), "", null_handling="replace", null_replacement="")
    email = pc.if_else(pa.array(no_email), pa.scalar(None, pa.string()), email)

    # addresses: six pieces per row
    cn_style = rng.choice(4, n, p=[0.55, 0.2, 0.12, 0.13])
    us_style = rng.choice(4, n, p=[0.5, 0.25, 0.15, 0.1])
    apartment = integers(39 * 4)
    room, dong, unit = integers(128), integers(29), integers(5)
    a1, a2, a3 = _ADDRESS_1.start, _ADDRESS_2.start, _ADDRESS_3.start
    a4, a5, a6 = _ADDRESS_4.start, _ADDRESS_5.start, _ADDRESS_6.start
    part1 = np.where(us, np.where(us_style == 3, a1["unit"] + apartment * len(_US_BUILDINGS)
                                  + integers(len(_US_BUILDINGS)), a1["empty"]),
                     a1["district"] + district)
    part2 = np.where(us, a2["house"] + integers(9_899), a2["street"] + integers(len(_CN_STREETS)))
    part3 = np.where(us, a3["street"] + integers(len(_US_STREETS)), a3["house"] + integers(399))
    estate = integers(len(_CN_ESTATES))
    part4 = np.where(us, np.select([us_style == 1, us_style == 2], [a4["apt"] + apartment,
                                                                    a4["hash"] + apartment],
                                   a4["empty"]),
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a4["estate"] + estate, a4["yard"], a4["comma_estate"] + estate],
                               a4["empty"]))
    part5 = np.where(us, a5["empty"],
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a5["dong_unit"] + dong * 5 + unit, a5["lou"] + dong,
                                a5["dong"] + dong], a5["empty"]))
    part6 = np.where(us, a6["empty"],
                     np.select([cn_style == 0, cn_style == 1, cn_style == 2],
                               [a6["room_shi"] + room, a6["room"] + room, a6["room_shi"] + room],
                               a6["empty"]))
    postal_address = _join(_ADDRESS_1.take(part1), _ADDRESS_2.take(part2),
                           _ADDRESS_3.take(part3), _ADDRESS_4.take(part4),
                           _ADDRESS_5.take(part5), _ADDRESS_6.take(part6))
    timezone = np.where(us, _US_ZONE[us_place], np.where(on_urumqi, 1, 0)).astype(np.int8)
    us_index = us.astype(np.int64)
    columns = {
        "full_name": full_name, "mobile_phone": phone, "email": email,
        "postal_address": postal_address,
        "city": _PLACE.take(np.where(us, _PLACE.start["us_city"] + us_place, place)),
        "region": _REGION.take(np.where(us, _REGION.start["us"] + us_place, place)),
        "postal_code": _POSTAL.take(np.where(us, _POSTAL.start["us"] + us_place * 100
                                             + integers(100), district)),
        "country": _pick(("CN", "US"), us_index),
        "preferred_language": _pick(("zh-CN", "en-US"), (us & ~chinese_american).astype(np.int64)),
        "timezone": _pick(TIMEZONES, timezone.astype(np.int64)),
    }
    return _People(columns, timezone)


# --- the book ---------------------------------------------------------------------------------

_K = 8  # arrears instalments kept per account: DPD <= 180 spans at most 7 monthly due dates
_H_GRID = np.geomspace(2e-5, 1.0, 61)  # survival table axes for current accounts: hazard ...
_Q_GRID = np.linspace(0.0, 1.0, 11)    # ... and daily contact rate
_NO, _PARTIAL, _MINIMUM, _FULL = range(4)  # cycle decisions
_EV = {name: code for code, name in enumerate(EVENT_TYPES)}
_CH = {name: code for code, name in enumerate(CHANNELS)}


class _Book:
    """The whole book as numpy arrays: static account terms, dynamic balances, customer flags."""

    def __init__(self, n_accounts: int, start: date, end: date, seed: int,
                 shock_date: date | None, shock_size: float, pool: ThreadPoolExecutor,
                 home: Path, file_format: str):
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
        self._survival_cache: dict[bytes, np.ndarray] = {}
        self._events: list[dict[str, np.ndarray]] = []
        # Customers' text only needs their countries, and the first night's customers file only
        # needs who has opened an account by then: both are built on the pool, in the background.
        self._create_customers(n_accounts)
        self._people_future = pool.submit(self._build_people, self.cust_us.copy())
        self._people: _People | None = None
        self._create_accounts(n_accounts)
        self._prepare_identifiers()
        first_night = np.zeros(self.n_customers, bool)
        first_night[self.customer[self.open_day <= self.start]] = True
        self._first_customers = np.flatnonzero(first_night)
        stem = home / "landing" / "customers" / _date(self.start).isoformat()
        self._first_customers_file = pool.submit(self._write_first_customers, stem, file_format)
        self._initialise_state()

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
        self.boost_promise = zeros(bool)
        self.cycle_decision = zeros(np.int8)
        self.cycle_pay_done = zeros(bool)
        self.cycle_p_none, self.cycle_p_partial = zeros(float), zeros(float)
        self.accounts_seen = zeros(bool)
        c = n_customers
        self.deceased, self.bankrupt = np.zeros(c, bool), np.zeros(c, bool)
        self.do_not_contact = np.zeros(c, bool)
        self.opt_out = np.zeros(c, np.int16)
        self.customers_written = np.zeros(c, bool)

    def _statement_and_due(self, month_idx, idx) -> tuple[np.ndarray, np.ndarray]:
        statement = self.month_start[month_idx] + self.statement_day[idx] - 1
        return statement, statement + self.due_offset[idx]

    def _initialise_state(self) -> None:
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

        # written off before the first night
        wo = pre[written_off]
        self.status[wo] = _CHARGED_OFF
        self.wo_oldest_due[wo] = t0 - target[written_off]
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
        self._events = []
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
        self._contacts(t, self.rng_contact)
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
        fee = np.where(self.is_us[late], _LATE_FEE_US, np.maximum(np.round(0.05 * amount), 10_00))
        self.balance[late] += fee.astype(np.int64)
        self.fees[late] += fee.astype(np.int64)
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
            * _BUCKET_EVENT[bucket_of(dpd)] * boost, _EVENT_CAP)
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

    # --- contacts
    def _add_events(self, customer, account, kind, channel, second, amount=None, until=None) -> None:
        n = len(customer)
        if n == 0:
            return
        full = lambda value: np.full(n, value, np.int64) if np.isscalar(value) else \
            np.asarray(value, np.int64)
        self._events.append({
            "customer": full(customer), "account": full(account), "type": full(kind),
            "channel": full(channel), "second": full(second),
            "amount": full(-1 if amount is None else amount),
            "until": full(-1 if until is None else until),
        })

    def _contacts(self, t: int, rng: np.random.Generator) -> None:
        """The lender's collection calls and the customers' disputes, complaints and notices."""
        active = self.active()
        visible = (self.status >= _OPEN) & (self.status <= _CHARGED_OFF)

        # disputes close, then new ones open
        closing = np.flatnonzero(self.dispute_until == t)
        self._add_events(self.customer[closing], closing, _EV["dispute_closed"],
                         rng.choice([_CH["letter"], _CH["email"], _CH["app"]], len(closing)),
                         rng.integers(9 * 3600, 18 * 3600, len(closing)))
        self.dispute_until[closing] = -1
        candidates = np.flatnonzero(visible & (self.dispute_until < t))
        troubled = (self.n_arrears[candidates] > 0) | (self.status[candidates] == _CHARGED_OFF)
        opening = candidates[rng.random(len(candidates)) < np.where(troubled, 2e-4, 4e-5)]
        self.dispute_until[opening] = t + rng.integers(7, 46, len(opening))
        channel = rng.choice([_CH["phone"], _CH["app"], _CH["email"], _CH["letter"]], len(opening),
                             p=[0.4, 0.3, 0.2, 0.1])
        self._add_events(self.customer[opening], opening, _EV["dispute_opened"], channel,
                         rng.integers(7 * 3600, 23 * 3600, len(opening)))

        # collection calls on delinquent accounts
        delinquent = np.flatnonzero(active & (self.n_arrears > 0))
        dpd = t - self.arrears_due[delinquent, 0]
        attempt = (rng.random(len(delinquent)) < _CALL_ATTEMPT[bucket_of(dpd)]) \
            & ~self.suppressed(delinquent, t)
        called = delinquent[attempt]
        n = len(called)
        if n:
            attempts = rng.choice(3, n, p=_ATTEMPTS_PER_DAY) + 1
            success = rng.random((n, 3)) < self.connect[self.customer[called]][:, None]
            success &= np.arange(3)[None, :] < attempts[:, None]
            connected = success.any(axis=1)
            first = np.argmax(success, axis=1)
            used = np.where(connected, first + 1, attempts)
            times = np.sort(rng.integers(9 * 3600, 20 * 3600 + 1800, (n, 3)), axis=1)
            for k in range(3):
                made = used > k
                kind = np.where(connected & (first == k), _EV["call_connected"], _EV["call_attempt"])
                self._add_events(self.customer[called[made]], called[made], kind[made], _CH["phone"],
                                 times[made, k])
            talked = called[connected]
            call_time = times[connected, first[connected]]
            promise = rng.random(len(talked)) < _PROMISE_SHARE
            self.boost_until[talked] = t + _BOOST_DAYS
            self.boost_promise[talked] = promise
            promised = talked[promise]
            owed = self.past_due[promised] + self.amount_due[promised]
            amount = np.where(rng.random(len(promised)) < 0.7, owed,
                              np.round(owed * rng.uniform(0.3, 0.9, len(promised))))
            self._add_events(self.customer[promised], promised, _EV["promise_to_pay"], _CH["phone"],
                             call_time[promise] + rng.integers(30, 600, len(promised)),
                             amount.astype(np.int64), t + rng.integers(1, 8, len(promised)))
            upset = rng.random(len(talked)) < 0.01
            self._add_events(self.customer[talked[upset]], talked[upset], _EV["complaint"],
                             _CH["phone"], np.minimum(call_time[upset] + 900, 86_399))

        # complaints about anything else
        existing = np.flatnonzero(visible)
        complaining = existing[rng.random(len(existing)) < 2e-5]
        self._add_events(self.customer[complaining], complaining, _EV["complaint"],
                         rng.choice([_CH["phone"], _CH["app"], _CH["email"], _CH["letter"]],
                                    len(complaining)),
                         rng.integers(7 * 3600, 23 * 3600, len(complaining)))

        # customer-level notices
        holders = np.bincount(self.customer[existing], minlength=self.n_customers) > 0
        behind = np.bincount(self.customer[delinquent], minlength=self.n_customers) > 0
        u = rng.random((5, self.n_customers))
        channel = rng.choice(np.array([_CH["sms"], _CH["email"], _CH["app"], _CH["phone"]]),
                             self.n_customers, p=[0.4, 0.3, 0.2, 0.1])
        opting = np.flatnonzero(holders & (u[0] < 5e-5) & ((self.opt_out >> channel) & 1 == 0))
        self.opt_out[opting] |= (1 << channel[opting]).astype(np.int16)
        self._add_events(opting, -1, _EV["opt_out"], channel[opting],
                         rng.integers(7 * 3600, 23 * 3600, len(opting)))
        refusing = np.flatnonzero(holders & ~self.do_not_contact
                                  & (u[1] < np.where(behind, 1e-4, 1e-5)))
        self.do_not_contact[refusing] = True
        self._add_events(refusing, -1, _EV["do_not_contact"], -1,
                         rng.integers(9 * 3600, 17 * 3600, len(refusing)))
        dying = np.flatnonzero(holders & ~self.deceased & (u[2] < 4e-6))
        self.deceased[dying] = True
        self._add_events(dying, -1, _EV["deceased"],
                         np.where(u[3][dying] < 0.5, _CH["letter"], _CH["phone"]),
                         rng.integers(9 * 3600, 17 * 3600, len(dying)))
        bankrupt_rate = np.where(self.cust_us, 3e-5, 2e-6) * np.exp(0.7 * self.z)
        failing = np.flatnonzero(holders & ~self.bankrupt & (u[4] < bankrupt_rate))
        self.bankrupt[failing] = True
        self._add_events(failing, -1, _EV["bankruptcy"], _CH["letter"],
                         rng.integers(9 * 3600, 17 * 3600, len(failing)))

    # --- truth
    def _survival_tables(self, t: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Survival after a miss on each day of the window, over the (hazard, contact) grid.

        Returns the stacked tables (paths, H, Q, 32) and, per miss day offset, its path index.
        """
        path_of_offset = np.zeros(horizon, np.int64)
        tables, keys = [], {}
        days = np.arange(1, 32)
        bucket = bucket_of(days)
        for offset in range(horizon):
            multipliers = np.asarray(self.date_multiplier(t + offset + days), float)
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

    def truth(self, idx: np.ndarray, night: date) -> tuple[np.ndarray, np.ndarray]:
        """P(bucket one month later is worse than tonight's) for the given accounts, and buckets."""
        t = _day(night)
        horizon = _day(one_month_later(night)) - t
        later = t + horizon
        status = self.status[idx]
        probability = np.zeros(len(idx))
        risk = self.risk(idx)
        delinquent_mask = ((status == _OPEN) | (status == _FROZEN)) & (self.n_arrears[idx] > 0)
        current_mask = ((status == _OPEN) | (status == _FROZEN)) & (self.n_arrears[idx] == 0)
        hazard = _event_hazard(risk, self.account_multiplier(idx))
        contact = self.contact_rate(idx, t)

        rows = np.flatnonzero(delinquent_mask)
        if len(rows):
            acc = idx[rows]
            dpd0 = t - self.arrears_due[acc, 0]
            steps = np.arange(1, horizon + 1)
            dpd = dpd0[:, None] + steps[None, :]
            bucket = bucket_of(dpd)
            alive = dpd <= 181
            base = (hazard[rows][:, None] * self.date_multiplier(t + steps)[None, :]
                    * _BUCKET_EVENT[bucket] * alive)
            called = np.where(dpd <= 180, _CALL_ATTEMPT[bucket], 0.0) * contact[rows][:, None]
            left = np.clip(self.boost_until[acc] - t, 0, _BOOST_DAYS)
            state = np.where(left > 0, left + np.where(self.boost_promise[acc], _BOOST_DAYS, 0), 0)
            survival = _boost_chain(base, called, state)
            final = survival[:, horizon]
            now = bucket_of(dpd0)
            worse_unpaid = bucket_of(dpd0 + horizon) > now
            value = np.where(worse_unpaid, final, 0.0)
            two = self.n_arrears[acc] >= 2
            worse_after_oldest = bucket_of(later - self.arrears_due[acc, 1]) > now
            events = survival[:, :-1] - survival[:, 1:]
            after = final[:, None] / np.maximum(survival[:, 1:], 1e-300)
            single_oldest = (1 - _CURE_SHARE) * (events * after).sum(axis=1)
            value += np.where(two & worse_after_oldest, single_oldest, 0.0)
            probability[rows] = value

        rows = np.flatnonzero(current_mask)
        if len(rows):
            acc = idx[rows]
            tables, path_of_offset = self._survival_tables(t, horizon)
            due = self.cycle_due[acc]
            owed = self.amount_due[acc]
            pending = (due >= t) & (owed > 0)
            window = np.maximum(due - self.cycle_start[acc], 1)
            q = np.clip((due - t) / window, 0, 1)
            p_none, p_partial = self.cycle_p_none[acc], self.cycle_p_partial[acc]
            numerator = p_none + p_partial * q
            denominator = p_none + (1 - p_none) * q
            miss_a = np.where(denominator > 0, numerator / np.maximum(denominator, 1e-300), 1.0)
            miss_a = np.where(self.cycle_pay_done[acc], 1.0, miss_a)
            miss_a = np.where(pending, miss_a, 0.0)
            survive_a = np.zeros(len(acc))
            some = np.flatnonzero(miss_a > 0)
            survive_a[some] = self._lookup(
                tables, path_of_offset[np.clip(due[some] - t, 0, horizon - 1)], hazard[rows[some]],
                contact[rows[some]], later - due[some])
            # the next statement's cycle, if its due date falls inside the month
            mi = int(self.month_index(t))
            this_statement = self.month_start[mi] + self.statement_day[acc] - 1
            statement_b = np.where(this_statement > t, this_statement,
                                   self.month_start[mi + 1] + self.statement_day[acc] - 1)
            due_b = statement_b + self.due_offset[acc]
            miss_b = np.zeros(len(acc))
            survive_b = np.zeros(len(acc))
            inside = np.flatnonzero(due_b <= later - 1)
            if len(inside):
                one, row = acc[inside], rows[inside]
                revolving = ~self.installment[one]
                balance = self.balance[one]
                utilisation = np.where(revolving, balance / np.maximum(self.credit_limit[one], 1),
                                       0.4)
                early = (statement_b[inside] - self.open_day[one]) < 95
                b_none, b_partial = _miss_probabilities(risk[row], utilisation, early,
                                                        self.shock(statement_b[inside]))
                spend_by_then = 1 - (1 - np.minimum(self.spend_probability[one], 0.95)) ** \
                    np.maximum(statement_b[inside] - t, 0)
                will_owe = np.where(
                    revolving,
                    np.where(balance > 0, 1.0, np.where(status[row] == _OPEN, spend_by_then, 0.0)),
                    (balance - self.past_due[one] - owed[inside] > 0).astype(float))
                miss_b[inside] = (b_none + b_partial) * will_owe
                some = inside[miss_b[inside] > 0]
                survive_b[some] = self._lookup(
                    tables, path_of_offset[np.clip(due_b[some] - t, 0, horizon - 1)],
                    hazard[rows[some]], contact[rows[some]], later - due_b[some])
            probability[rows] = 1 - (1 - miss_a * survive_a) * (1 - miss_b * survive_b)

        charged_off = status == _CHARGED_OFF
        dpd = self.days_past_due(idx, t)
        return np.clip(probability, 0.0, 1.0), bucket_of(dpd, charged_off)

    def days_past_due(self, idx: np.ndarray, t: int) -> np.ndarray:
        status = self.status[idx]
        behind = ((status == _OPEN) | (status == _FROZEN)) & (self.n_arrears[idx] > 0)
        return np.where(behind, t - self.arrears_due[idx, 0],
                        np.where(status == _CHARGED_OFF, t - self.wo_oldest_due[idx], 0))

    # --- text and files
    def _prepare_identifiers(self) -> None:
        """Account and customer ids and a date-to-text table, built once for speed."""
        self.account_ids = _join("AC", _digits(np.arange(1, self.n_accounts + 1), 8))
        self.customer_ids = _join("CU", _digits(np.arange(1, self.n_customers + 1), 7))
        self.overrides: dict[int, dict[str, str | None]] = {}
        self.day_base = self.start - _PRE_BOOK_DAYS - 1200
        span = np.arange(self.day_base, self.end + 400, dtype=np.int32)
        self.day_text = pc.cast(pa.array(span).cast(pa.date32()), pa.string())

    def _build_people(self, is_us: np.ndarray) -> tuple[_People, pa.Table]:
        """Runs on a worker thread, and alone uses rng_people until the main thread waits for it."""
        people = _generate_people(self.rng_people, is_us)
        ids = _join("CU", _digits(np.arange(1, len(is_us) + 1), 7))
        table = pa.table({"customer_id": ids} | people.columns).select(list(CUSTOMER_COLUMNS))
        return people, table

    def _write_first_customers(self, stem: Path, file_format: str) -> Path:
        """Runs on a worker thread: the first night's customers file, from the built table."""
        _, table = self._people_future.result()
        rows = self._first_customers
        first = table.slice(0, len(rows)) if rows[-1:].tolist() in ([], [len(rows) - 1]) else \
            table.take(pa.array(rows))  # customer ids follow first opening: usually a prefix
        return self._write(stem, self._customer_columns(first), file_format)

    def people(self) -> _People:
        """Customers' text, waiting for the background build the first time."""
        if self._people is None:
            self._people, self.customer_table = self._people_future.result()
            self.timezone = self._people.timezone.copy()
        return self._people

    @staticmethod
    def _customer_columns(table: pa.Table) -> dict[str, tuple[str, object]]:
        free_text = ("postal_address",)  # the only generated text with commas and quotes
        return {name: ("str" if name in free_text else "key", table.column(name).combine_chunks())
                for name in CUSTOMER_COLUMNS}

    def _customer_changes(self) -> np.ndarray:
        """A few existing customers move house or change their mobile number each night."""
        rng = self.rng_people
        written = np.flatnonzero(self.customers_written)
        changing = written[rng.random(len(written)) < 3e-4]
        if len(changing) == 0:
            return changing
        fresh = _generate_people(rng, self.cust_us[changing])
        moves = rng.random(len(changing)) < 0.7
        address = ("postal_address", "city", "region", "postal_code", "timezone")
        for i, customer in enumerate(changing.tolist()):
            override = self.overrides.setdefault(customer, {})
            names = address if moves[i] else ("mobile_phone",)
            for name in names:
                override[name] = fresh.columns[name][i].as_py()
            if moves[i]:
                self.timezone[customer] = fresh.timezone[i]
        return changing

    def _next_due(self, idx: np.ndarray, t: int) -> np.ndarray:
        status = self.status[idx]
        mi = int(self.month_index(t))
        this_statement = self.month_start[mi] + self.statement_day[idx] - 1
        statement = np.where(this_statement > t, this_statement,
                             self.month_start[mi + 1] + self.statement_day[idx] - 1)
        upcoming = np.where(self.cycle_due[idx] >= t, self.cycle_due[idx],
                            statement + self.due_offset[idx])
        owes = ((status == _OPEN) | (status == _FROZEN)) & (self.balance[idx] > 0)
        return np.where(owes, upcoming, -1)

    def write_night(self, home: Path, night: date, file_format: str,
                    pool: ThreadPoolExecutor) -> dict[str, tuple[Path, int]]:
        """Write the night's three landing files and its truth; returns paths and row counts.

        Text formatting and file writing run on a small thread pool (Arrow releases the GIL) while
        this thread computes the truth; every random draw stays on this thread, in order.
        """
        t = _day(night)
        idx = np.flatnonzero((self.status >= _OPEN) & (self.status <= _CHARGED_OFF)
                             & (self.open_day <= t))
        self.accounts_seen[idx] = True
        n = len(idx)
        status = self.status[idx]
        dpd = self.days_past_due(idx, t)
        snapshot = {
            "snapshot_date": ("date", np.full(n, t, np.int64)),
            "account_id": ("key", self.account_ids.take(pa.array(idx))),
            "customer_id": ("key", self.customer_ids.take(pa.array(self.customer[idx]))),
            "product": ("key", _pick(("revolving", "installment"),
                                     self.installment[idx].astype(np.int64))),
            "open_date": ("date", self.open_day[idx]),
            "status": ("key", _pick(_STATUS_TEXT, status.astype(np.int64))),
            "currency": ("key", _pick(("CNY", "USD"), self.is_us[idx].astype(np.int64))),
            "credit_limit": ("money", self.credit_limit[idx]),
            "balance": ("money", self.balance[idx]),
            "amount_due": ("money", self.amount_due[idx]),
            "past_due_amount": ("money", self.past_due[idx]),
            "days_past_due": ("int", dpd),
            "next_due_date": ("date", self._next_due(idx, t)),
            "payment_amount": ("money", self.payment_today[idx]),
            "last_payment_date": ("date", self.last_payment_day[idx]),
        }
        pending: dict[str, tuple[Future, int]] = {}
        landing = home / "landing"
        pending["account_snapshots"] = (
            pool.submit(self._write, landing / "account_snapshots" / night.isoformat(), snapshot,
                        file_format), n)

        # customers: everyone on the first night (written in the background), then new and
        # changed customers
        if t == self.start:
            self.customers_written[self._first_customers] = True
            pending["customers"] = (self._first_customers_file, len(self._first_customers))
        else:
            self.people()
            holding = np.zeros(self.n_customers, bool)
            holding[self.customer[idx]] = True
            changed = self._customer_changes()  # among customers written on earlier nights
            wanted = holding & ~self.customers_written
            self.customers_written[wanted] = True
            wanted[changed] = True
            rows = np.flatnonzero(wanted)
            table = self.customer_table.take(pa.array(rows, pa.int64()))
            if any(int(c) in self.overrides for c in rows):
                records = table.to_pylist()
                for record, customer in zip(records, rows.tolist(), strict=True):
                    record.update(self.overrides.get(customer, {}))
                table = pa.Table.from_pylist(records, schema=self.customer_table.schema)
            pending["customers"] = (
                pool.submit(self._write, landing / "customers" / night.isoformat(),
                            self._customer_columns(table), file_format), len(rows))

        probability, bucket = self.truth(idx, night)
        truth = pa.table({
            "snapshot_date": pa.array(np.full(n, t, np.int32)).cast(pa.date32()),
            "account_id": self.account_ids.take(pa.array(idx)),
            "latent_risk": pa.array(self.risk(idx), pa.float64()),
            "true_roll_forward_probability": pa.array(probability, pa.float64()),
            "bucket": _pick(BUCKETS, bucket.astype(np.int64)),
        })
        truth_path = home / "truth" / f"{night.isoformat()}.parquet"
        pq.write_table(truth, truth_path)
        events = self._event_columns(night)
        pending["contact_events"] = (
            _Done(self._write(landing / "contact_events" / night.isoformat(), events,
                        file_format)), len(events["event_id"][1]))

        written = {name: (future.result(), count) for name, (future, count) in pending.items()}
        written["truth"] = (truth_path, n)
        return written

    def _event_columns(self, night: date) -> dict[str, tuple[str, object]]:
        """The night's contact events, sorted by instant, with local times and offsets."""
        t = _day(night)
        parts = self._events
        get = lambda key: np.concatenate([p[key] for p in parts]) if parts else \
            np.zeros(0, np.int64)
        customer, account, kind = get("customer"), get("account"), get("type")
        channel, second, amount, until = get("channel"), get("second"), get("amount"), get("until")
        self.people()
        noon = datetime(night.year, night.month, night.day, 12)
        offsets = np.array([int(ZoneInfo(zone).utcoffset(noon).total_seconds()) for zone in TIMEZONES])
        offset_text = [f"{'+' if s >= 0 else '-'}{abs(s) // 3600:02d}:{abs(s) % 3600 // 60:02d}"
                       for s in offsets]
        zone = self.timezone[customer].astype(np.int64)
        instant = t * 86_400 + second - offsets[zone]
        order = np.lexsort((account, kind, customer, instant))
        customer, account, kind, channel, second, amount, until, zone, instant = (
            a[order] for a in (customer, account, kind, channel, second, amount, until, zone,
                               instant))
        n = len(customer)
        stamp = night.strftime("%Y%m%d")
        local = _join(night.isoformat(), "T", _digits(second // 3600, 2), ":",
                      _digits(second % 3600 // 60, 2), ":", _digits(second % 60, 2),
                      _pick(offset_text, zone))
        no_account = account < 0
        return {
            "event_id": ("key", _join(f"EV{stamp}", _digits(np.arange(1, n + 1), 7))),
            "event_time": ("time", (local, instant)),
            "customer_id": ("key", self.customer_ids.take(pa.array(customer))),
            "account_id": ("key", self.account_ids.take(pa.array(np.where(no_account, 0, account),
                                                                 mask=no_account))),
            "event_type": ("key", _pick(EVENT_TYPES, kind)),
            "channel": ("key", _pick(CHANNELS, np.maximum(channel, 0)).take(pa.array(
                np.arange(n), mask=channel < 0))),
            "amount": ("money", (amount, amount < 0)),
            "until_date": ("date", until),
        }

    def _write(self, stem: Path, columns: dict[str, tuple[str, object]], file_format: str) -> Path:
        """One landing file, CSV (minimal quoting, exact text) or typed parquet."""
        if file_format == "parquet":
            path = stem.with_suffix(".parquet")
            table = pa.table({name: self._typed(kind, value)
                              for name, (kind, value) in columns.items()})
            pq.write_table(table, path)
            return path
        path = stem.with_suffix(".csv")
        first = next(iter(columns.values()))[1]
        rows = len(first[0] if isinstance(first, tuple) else first)
        with path.open("wb") as handle:
            handle.write((",".join(columns) + "\n").encode())
            # in slices: small buffers are reused, fresh 100 MB ones cost page faults
            for start in range(0, rows, _CSV_CHUNK):
                stop = min(start + _CSV_CHUNK, rows)
                text = [self._text(kind, _slice(value, start, stop))
                        for kind, value in columns.values()]
                lines = pc.binary_join_element_wise(*text, ",", null_handling="replace",
                                                    null_replacement="")
                lines = pc.binary_join_element_wise(lines, "\n", "")
                offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset:]
                body = lines.buffers()[2]
                handle.write(memoryview(body.slice(int(offsets[0]),
                                                   int(offsets[len(lines)] - offsets[0]))))
        return path

    def _text(self, kind: str, value) -> pa.Array:
        if kind == "date":
            days = np.asarray(value)
            return self.day_text.take(pa.array(np.where(days < 0, 0, days - self.day_base),
                                               mask=days < 0))
        if kind == "money":
            cents, mask = value if isinstance(value, tuple) else (value, None)
            cents = np.asarray(cents, np.int64)
            mask = np.zeros(len(cents), bool) if mask is None else mask
            nonzero = (cents != 0) & ~mask
            formatted = pc.cast(_decimal(cents[nonzero]), pa.string())
            pool = pa.concat_arrays([pa.array(["0.00"]), formatted])
            index = np.zeros(len(cents), np.int64)
            index[nonzero] = np.arange(1, int(nonzero.sum()) + 1)
            return pool.take(pa.array(index, mask=mask))
        if kind == "int":
            return pc.cast(pa.array(np.asarray(value, np.int64)), pa.string())
        if kind == "time":
            return value[0]
        if kind == "key":  # identifiers and codes we generate: never need quoting
            return value
        return _quoted(value)

    @staticmethod
    def _typed(kind: str, value) -> pa.Array:
        if kind == "date":
            days = np.asarray(value)
            return pa.array(days.astype(np.int32), mask=days < 0).cast(pa.date32())
        if kind == "money":
            cents, mask = value if isinstance(value, tuple) else (value, None)
            return _decimal(np.asarray(cents, np.int64), mask)
        if kind == "int":
            return pa.array(np.asarray(value, np.int32))
        if kind == "time":  # ISO 8601 text with the customer's offset, as in the CSV: a parquet
            return value[0]  # timestamp would keep only the UTC instant
        return value


class _Done:
    """An already computed result that looks like a future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


_CSV_CHUNK = 1 << 17


def _slice(value, start: int, stop: int):
    """Rows start..stop of a column value: numpy array, Arrow array, or a tuple of them."""
    if isinstance(value, tuple):
        return tuple(_slice(v, start, stop) for v in value)
    if value is None:
        return None
    if isinstance(value, pa.Array):
        return value.slice(start, stop - start)
    return value[start:stop]


def _decimal(cents: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """decimal128(18,2) straight from integer cents: exact, and no float formatting."""
    n = len(cents)
    words = np.empty(2 * n, np.int64)
    words[0::2] = cents
    words[1::2] = cents >> 63
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.array(~mask).buffers()[1]
        null_count = int(mask.sum())
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [validity, pa.py_buffer(words)],
                                 null_count=null_count)


def _quoted(values: pa.Array) -> pa.Array:
    """CSV minimal quoting: only values with a comma, quote or line break are quoted."""
    if len(values) == 0:
        return values
    needs = pc.match_substring(values, ",")
    for special in ('"', "\n", "\r"):
        needs = pc.or_(needs, pc.match_substring(values, special))
    rows = np.flatnonzero(pc.fill_null(needs, False).to_numpy(zero_copy_only=False))
    if len(rows) == 0:
        return values
    quoted = _join('"', pc.replace_substring(values.take(pa.array(rows)), '"', '""'), '"')
    index = np.arange(len(values))
    index[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values, quoted]).take(pa.array(index))
