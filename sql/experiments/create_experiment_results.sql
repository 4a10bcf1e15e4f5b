-- experiment_results: per night, experiment, arm and metric (amounts also per currency), the
-- accounts entering treatment and their 30-day outcomes, each challenger or holdout arm minus
-- the champion with a 95% interval; filled by pipelines/lib/collections/experiment_results.py
-- from sql/experiments/experiment_entries.sql.
--
-- Columns:
--   snapshot_date: the night the results are as known on
--   experiment_id: the experiment (pipelines/config/experiments/<id>.yaml)
--   arm: champion, challenger or holdout
--   metric: cure_30d, roll_forward_30d, amount_collected_30d, contacts_per_cure or complaints_per_1000
--   primary_metric: the metric the experiment file pre-registered
--   currency: amount_collected_30d only: the currency of the accounts and amounts (never added across currencies)
--   accounts: accounts that entered treatment in the arm so far (the unit: an account's first night in a tier during the experiment)
--   matured: of these, entries 30 days old or more: the rates' denominator (cure_30d: those delinquent on entry)
--   successes: cures, roll-forwards, complaints, or cures (contacts_per_cure), among matured entries
--   amount_collected: amount_collected_30d only: payments within 30 days of matured entries, in currency
--   value: the arm's rate, mean amount collected per account, contacts per cure or complaints per 1,000 accounts
--   champion_value: the champion's value of the metric
--   difference: value - champion_value (null on the champion's rows)
--   low, high: the 95% interval of the difference: Newcombe hybrid score for rates, Welch for amounts and complaints; none for contacts_per_cure (a ratio)
--   min_detectable_effect: the smallest true difference the arms' matured sizes detect (two-sided 5%, power 80%)
--   verdict: significant (the interval excludes 0), no significant difference, or too early (no matured entries to compare); null on the champion's rows
create table if not exists experiment_results (
    snapshot_date date not null,
    experiment_id varchar not null,
    arm varchar not null,
    metric varchar not null,
    primary_metric boolean not null,
    currency varchar,
    accounts bigint not null,
    matured bigint,
    successes bigint,
    amount_collected double,
    value double,
    champion_value double,
    difference double,
    low double,
    high double,
    min_detectable_effect double,
    verdict varchar
)
