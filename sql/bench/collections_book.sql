-- A synthetic night for the collections benchmark: $accounts accounts on $night with the columns
-- tiering and letters read (account_snapshots, account_features, customers_history, an empty
-- contact_events), delinquency mix close to the simulator's (about 93% current). Not for tests.
create or replace table account_snapshots as
select
    cast($night as date) as snapshot_date,
    'AC' || lpad(cast(i as varchar), 8, '0') as account_id,
    'CU' || lpad(cast(i as varchar), 7, '0') as customer_id,
    'revolving' as product,
    date '2023-01-15' as open_date,
    case when hash(i) % 1000 < 12 then 'charged_off' else 'open' end as status,
    case when i % 10 = 0 then 'USD' else 'CNY' end as currency,
    cast(10000 as decimal(18, 2)) as credit_limit,
    cast(1000 + hash(i * 7) % 9000 as decimal(18, 2)) as balance,
    cast(120 as decimal(18, 2)) as amount_due,
    cast(case when hash(i) % 1000 < 70 then 100 + hash(i * 3) % 900 else 0 end as decimal(18, 2))
        as past_due_amount,
    cast(case when hash(i) % 1000 < 12 then 200 + hash(i) % 100
              when hash(i) % 1000 < 70 then 1 + hash(i * 5) % 170 else 0 end as integer)
        as days_past_due,
    cast($night as date) + cast(hash(i * 11) % 25 as integer) as next_due_date,
    cast(0 as decimal(18, 2)) as payment_amount,
    date '2026-03-01' as last_payment_date,
    -- landing format 1.1: the past-due breakdown (parts of the whole-number past due above:
    -- fees 30, penalty interest 5, interest 10, principal the rest), contract, rates, statement
    cast(case when hash(i) % 1000 < 70 then 100 + hash(i * 3) % 900 - 45 end as decimal(18, 2))
        as past_due_principal,
    cast(case when hash(i) % 1000 < 70 then 10 end as decimal(18, 2)) as past_due_interest,
    cast(case when hash(i) % 1000 < 70 then 5 end as decimal(18, 2)) as past_due_penalty_interest,
    cast(case when hash(i) % 1000 < 70 then 30 end as decimal(18, 2)) as past_due_fees,
    'XH-2023-' || lpad(cast(i as varchar), 10, '0') as contract_reference,
    date '2023-01-15' as contract_date,
    '0.18' as annual_interest_rate,
    '0.1825' as penalty_interest_rate,
    cast($night as date) - 20 as statement_date,
    cast(1000 + hash(i * 7) % 9000 as decimal(18, 2)) as statement_balance,
    cast(case when hash(i) % 1000 < 12 then cast($night as date) - 20 end as date)
        as charge_off_date,
    cast(null as json) as extra_columns,
    'bench' as source_file,
    i as source_row
from range(1, $accounts + 1) as t(i)
