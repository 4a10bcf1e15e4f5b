-- Tonight's quarantined account_snapshots rows, for the executive summary's reconciliation: how
-- many accounts and how much balance tonight's book lacks. Reads only the balance and currency of
-- the quarantined record (never its other fields: a record can hold personal data). A record the
-- reader could not split (row_field_count, row_unbalanced_quote) is raw text, not JSON: counted,
-- its balance unknown.
-- Grain: one row per landed currency text (as landed, trimmed and upper-cased; null when absent).
--   currency: the record's currency, as landed
--   rows: distinct quarantined data rows (whole-file rejections excluded)
--   rows_with_balance: those whose balance reads as an amount
--   balance: the sum of those balances, in that currency
with

quarantined as (
    select distinct
        row_number,
        case
            when json_valid(raw_record)
                then upper(trim(json_extract_string(raw_record, '$.currency')))
        end as currency,
        case
            when json_valid(raw_record)
                then try_cast(trim(json_extract_string(raw_record, '$.balance')) as decimal(18, 2))
        end as balance
    from quarantine
    where feed = 'account_snapshots' and snapshot_date = $night and row_number is not null
)

select
    currency,
    count(*) as rows,
    count(balance) as rows_with_balance,
    coalesce(sum(balance), 0) as balance
from quarantined
group by currency
order by currency
