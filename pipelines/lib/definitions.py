"""Every figure of the risk report, defined once, in zh-CN and en.

The report's KPI labels and its glossary appendix are generated from this list, and the SQL that
computes a figure (its `column` in sql/features/portfolio_daily.sql) says the same in its header;
tests/report/test_definitions.py holds them to it. Decisions a committee must know are stated
here: the book excludes the written-off stock; NPL is 次级+可疑+损失 *on the book*.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Definition:
    key: str
    name: dict[str, str]  # language -> label
    text: dict[str, str]  # language -> definition
    column: str | None = None  # the portfolio_daily column that holds it, if any


def _d(key, zh_name, en_name, zh_text, en_text, column=None) -> Definition:
    return Definition(key, {"zh-CN": zh_name, "en": en_name}, {"zh-CN": zh_text, "en": en_text},
                      column)


_BOOK_ZH = "在册贷款 = 未核销的账户（核销 = 逾期超过180天或状态为已核销，WO）"
_BOOK_EN = "the book = accounts not written off (written off = over 180 DPD or charged off, WO)"

DEFINITIONS: tuple[Definition, ...] = (
    _d("accounts", "账户数（含核销存量）", "Accounts on file",
       "当日文件中的全部账户，含已结清与已核销账户。",
       "Every account in the night's file, closed and written-off ones included.", "accounts"),
    _d("balance", "余额（含核销存量）", "Balance on file",
       "当日文件中全部账户的余额之和（含核销存量），以报告币种计。",
       "Balance of every account in the file, written-off stock included, in the reporting "
       "currency.", "balance"),
    _d("book_accounts", "在册贷款户数", "Loans on book (accounts)",
       f"{_BOOK_ZH}；逾期率（户数）的分母。",
       f"Accounts on the book: {_BOOK_EN}; the denominator of the count rates.",
       "book_accounts"),
    _d("book_balance", "贷款余额", "Loan balance",
       "在册贷款（未核销）的余额；逾期率（余额）、不良贷款率与拨贷比的分母。",
       "Balance of the book (not written off): the denominator of the balance rates, the NPL "
       "ratio and the provision-to-loan ratio.", "book_balance"),
    _d("rate_30plus_accounts", "30+逾期率（户数）", "30+ rate (accounts)",
       "在册贷款中逾期31天及以上的户数 ÷ 在册贷款户数；核销存量不计入分子与分母。",
       "Book accounts at 31+ days past due ÷ book accounts; written-off stock in neither.",
       "rate_30plus_accounts"),
    _d("rate_60plus_accounts", "60+逾期率（户数）", "60+ rate (accounts)",
       "在册贷款中逾期61天及以上的户数 ÷ 在册贷款户数。",
       "Book accounts at 61+ days past due ÷ book accounts.", "rate_60plus_accounts"),
    _d("rate_90plus_accounts", "90+逾期率（户数）", "90+ rate (accounts)",
       "在册贷款中逾期91天及以上的户数 ÷ 在册贷款户数（即91–180天，核销存量另列）。",
       "Book accounts at 91+ days past due ÷ book accounts (so 91-180 DPD; written-off stock "
       "is on its own line).", "rate_90plus_accounts"),
    _d("rate_30plus_balance", "30+逾期率（余额）", "30+ rate (balance)",
       "在册贷款中逾期31天及以上的余额 ÷ 贷款余额。",
       "Balance of book accounts at 31+ DPD ÷ loan balance.", "rate_30plus_balance"),
    _d("rate_90plus_balance", "90+逾期率（余额）", "90+ rate (balance)",
       "在册贷款中逾期91天及以上的余额 ÷ 贷款余额。",
       "Balance of book accounts at 91+ DPD ÷ loan balance.", "rate_90plus_balance"),
    _d("npl_balance", "不良贷款余额", "Non-performing loans (balance)",
       "次级+可疑+损失类在册贷款的余额（五级分类：次级91–120天，可疑121–180天，损失180天以上）。"
       "逾期超过180天或已核销的贷款计为核销存量、不在册，因此在册不良贷款即逾期91–180天；"
       "核销存量不计入不良，另行列示。",
       "Balance of book loans graded substandard + doubtful + loss (five-class: substandard "
       "91-120 DPD, doubtful 121-180, loss over 180). Loans over 180 DPD or charged off are "
       "written-off stock and off the book, so NPL on the book is 91-180 DPD; the written-off "
       "stock is not in NPL and has its own line.", "npl_balance"),
    _d("npl_ratio", "不良贷款率", "NPL ratio",
       "不良贷款余额 ÷ 贷款余额（均不含核销存量）。",
       "NPL balance ÷ loan balance (written-off stock in neither).", "npl_ratio"),
    _d("writeoff_accounts", "核销存量（户数）", "Written-off stock (accounts)",
       "当日文件中已核销（WO：逾期超过180天或状态为已核销）的账户数。",
       "Accounts in the file that are written off (WO: over 180 DPD or charged off).",
       "writeoff_accounts"),
    _d("writeoff_balance", "核销存量（余额）", "Written-off stock (balance)",
       "上述核销存量账户的余额。", "Balance of the written-off stock.", "writeoff_balance"),
    _d("new_writeoffs", "本日新增核销户数", "Write-offs tonight (accounts)",
       "本日为核销、而其上一份快照（45天内）未核销的账户数；首次出现即已核销的账户不计入。",
       "Accounts written off tonight whose previous snapshot (within 45 days) was not; an "
       "account first seen already written off is not counted.", "new_writeoffs"),
    _d("new_writeoff_balance", "本日新增核销余额", "Write-offs tonight (balance)",
       "本日新增核销账户的余额。", "Balance of tonight's new write-offs.",
       "new_writeoff_balance"),
    _d("writeoffs_month", "本月新增核销户数", "Write-offs this month (accounts)",
       "自本月1日至本日的新增核销户数（同上规则）。",
       "New write-offs from the first of the month to the night (same rule).",
       "month_writeoffs"),
    _d("writeoff_balance_month", "本月新增核销余额", "Write-offs this month (balance)",
       "本月新增核销账户在核销当日的余额之和。",
       "Balance of this month's new write-offs on the night each was written off.",
       "month_writeoff_balance"),
    _d("provision_to_loans", "拨贷比", "Provision-to-loan ratio",
       "在册贷款的预期信用损失（IFRS 9 第一至第三阶段）÷ 贷款余额。",
       "Expected credit loss of the book (IFRS 9 stages 1-3) ÷ loan balance."),
    _d("provision_coverage", "拨备覆盖率", "Provision coverage ratio",
       "在册贷款的预期信用损失（IFRS 9 第一至第三阶段）÷ 不良贷款余额。",
       "Expected credit loss of the book (IFRS 9 stages 1-3) ÷ NPL balance."),
    _d("ecl_on_book", "在册贷款预期信用损失", "ECL of the book",
       "IFRS 9 第一至第三阶段的预期信用损失之和（核销存量除外），以报告币种计。",
       "Expected credit loss of IFRS 9 stages 1-3 (written-off stock excepted), in the "
       "reporting currency."),
    _d("ecl_coverage", "敞口覆盖率（ECL÷EAD）", "Coverage of exposure (ECL ÷ EAD)",
       "各阶段预期信用损失 ÷ 违约风险敞口（EAD）。",
       "Each stage's expected credit loss ÷ its exposure at default (EAD)."),
    _d("bucket", "逾期阶段", "Delinquency bucket",
       "按逾期天数：M0 正常，M1 1–30，M2 31–60，M3 61–90，M4 91–120，M5 121–150，M6 151–180，"
       "WO 核销（逾期超过180天或已核销）。",
       "By days past due: M0 current, M1 1-30, M2 31-60, M3 61-90, M4 91-120, M5 121-150, "
       "M6 151-180, WO written off (over 180 DPD or charged off)."),
    _d("five_class", "五级分类", "Five-class grading",
       "正常（未逾期）、关注（1–90天）、次级（91–120天）、可疑（121–180天）、损失（180天以上或已核销，"
       "即核销存量）。",
       "Normal (current), special mention (1-90 DPD), substandard (91-120), doubtful (121-180), "
       "loss (over 180 or charged off: the written-off stock)."),
    _d("roll_rate", "迁徙率", "Roll rate",
       "约一个月前处于某阶段的账户（或余额）在本日所处阶段的占比；新增账户与离开账户单列。",
       "Share of the accounts (or balance) in a bucket about one month earlier that are in each "
       "bucket tonight; new and departed accounts in their own row and column."),
    _d("flow_rate", "流转率", "Flow rate",
       "一个月前某阶段的余额中本日流入下一阶段的比例；链式流转率为其后各阶段流转率之积。",
       "Share of a bucket's balance a month earlier that is in the next bucket tonight; the "
       "chained rate is the product of it and every later bucket's."),
    _d("vintage_bad_rate", "账龄坏账率", "Vintage bad rate",
       "同一开户月份的账户中，至某账龄曾逾期30天以上的户数（或当日余额）占比；只从账簿首个观察"
       "月份起计算，此前的账龄为空（未观察），不是0。",
       "Share of a vintage's accounts (or their balance on the night) ever 30+ DPD by a month on "
       "book, counted only from the first month the book observed: earlier months are blank "
       "(not observed), not 0."),
    _d("ecl", "预期信用损失（ECL）", "Expected credit loss (ECL)",
       "逐月边际违约概率 × 违约损失率 × 违约风险敞口，按实际利率逐月折现，按基准、下行、上行情景"
       "加权（见 IFRS 9 章节的假设）。",
       "Monthly marginal PD × LGD × EAD, discounted month by month at the effective interest "
       "rate, probability-weighted over the base, downside and upside scenarios (assumptions in "
       "the IFRS 9 section)."),
    _d("ead", "违约风险敞口（EAD）", "Exposure at default (EAD)",
       "余额加上未用额度 × 信用转换系数（CCF）。",
       "Balance plus the unused limit × the credit conversion factor (CCF)."),
    _d("pd", "违约概率（PD）", "Probability of default (PD)",
       "按迁徙链（或模型评分）推算的到达核销的概率：第一阶段12个月，第二阶段存续期，第三阶段为1。",
       "The probability of reaching write-off from the roll chain (or the model's scores): 12 "
       "months in stage 1, lifetime in stage 2, 1 in stage 3."),
    _d("lgd", "违约损失率（LGD）", "Loss given default (LGD)",
       "违约后损失的敞口比例，按产品设定（假设文件）。",
       "Share of the exposure lost after default, set per product (assumptions file)."),
    _d("stage", "IFRS 9 阶段", "IFRS 9 stage",
       "第一阶段：信用风险未显著增加；第二阶段：显著增加；第三阶段：信用减值；核销账户单列（阈值见 IFRS 9 章节）。",
       "Stage 1: no significant increase in credit risk; stage 2: significant increase; stage 3: "
       "credit-impaired; written-off accounts on their own row (thresholds in the IFRS 9 "
       "section)."),
    _d("roll_forecast", "迁徙率预测", "Roll-rate forecast",
       "以最新迁徙率矩阵逐月推演（马尔可夫链）：户数按户数占比，余额按以报告币种折算的余额占比；"
       "某币种无汇率时只按户数推演。",
       "The latest roll-rate matrix chained month by month (a Markov chain): accounts by count "
       "shares, balances by balance shares in the reporting currency; with a currency without a "
       "rate, by count only."),
    _d("auc_ks", "AUC、KS", "AUC, KS",
       "模型区分能力：AUC 为随机一对（恶化、未恶化）账户被正确排序的概率；KS 为两者累计分布的最大差。",
       "The model's discrimination: AUC is the chance a random pair (rolled, not rolled) is "
       "ranked right; KS the largest gap between their cumulative distributions."),
    _d("psi", "稳定性指数（PSI）", "Population stability index (PSI)",
       "本日分布相对训练期分布的偏移：<0.1 稳定，0.1–0.25 关注，>0.25 需处理。",
       "Shift of tonight's distribution from the training window's: < 0.1 stable, 0.1-0.25 "
       "watch, > 0.25 act."),
    _d("collection_tier", "催收层级", "Collection tier",
       "按逾期阶段与模型风险划分的处置层级（T0 预警至 T5 核销复核）及其暂停联系原因。",
       "The treatment tier by bucket and model risk (T0 early warning to T5 write-off review), "
       "and why a contact was suppressed."),
    _d("cure_rate", "回款率与结清率", "Paid and cured rates",
       "处置后7天（30天）内有还款、或逾期全部结清的账户占当期处置账户的比例。",
       "Share of the treated accounts that paid, or cleared all arrears, within 7 (30) days of "
       "the contact."),
    _d("fx_rate", "汇率", "Exchange rate",
       "一单位外币折合的报告币种金额：取本日及之前7天内最新的汇率（汇率数据源）；"
       "无汇率的币种不折算，全行合计不予列示，只列分币种数字。",
       "Units of the reporting currency for one unit of a currency: the latest rate of the night "
       "and the 7 days before (feed fx_rates); a currency without one is not converted and no "
       "book total is shown, only per-currency figures."),
    _d("quarantined_rows", "隔离记录", "Quarantined rows",
       "未通过数据合同检查、未入库的账户快照行；本日数字不含这些账户。",
       "Account snapshot rows that failed the data contract and did not load: tonight's figures "
       "leave them out."),
)

BY_KEY = {d.key: d for d in DEFINITIONS}


def name(key: str, language: str) -> str:
    return BY_KEY[key].name[language]


def glossary(language: str) -> list[tuple[str, str]]:
    """(figure, definition) for every figure of the report, in the report's order."""
    return [(d.name[language], d.text[language]) for d in DEFINITIONS]
