-- Flow rates of the whole book on the report night and one month earlier (flow_rates, every
-- currency: balances in the reporting currency, null on a night with a currency without a rate).
-- Grain: one row per (snapshot_date, from_bucket).
--   snapshot_date, from_bucket, to_bucket, from_balance, flowed_balance, flow_rate,
--   chained_flow_to_writeoff: as in flow_rates
select snapshot_date, from_bucket, to_bucket, from_balance, flowed_balance, flow_rate,
    chained_flow_to_writeoff
from flow_rates
where product = 'all' and currency = 'all'
    and snapshot_date in ($night, $month_earlier)
order by snapshot_date, from_bucket
