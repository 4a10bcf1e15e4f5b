-- Payments after write-off, nights in [$start_date, $end_date]: a snapshot's payment_amount (paid
-- since the previous snapshot) on an account written off before that night. The write-off day is
-- the snapshots' charge_off_date, else the account's first night in bucket WO on record.
-- Columns:
--   snapshot_date: the night the payment shows
--   account_id: the written-off account
--   customer_id: its holder
--   currency: ISO 4217 currency of the payment
--   written_off_on: the write-off day (charge_off_date, else the first WO night)
--   payment_amount: paid since the previous snapshot, in the account's currency
--   agency_id: the agency holding the account on the night (agency_placements), null when none{{ '' if has_placements else ' (no agency_placements table in this rendering)' }}
with written_off as (
    select
        f.account_id,
        coalesce(min(s.charge_off_date), min(f.snapshot_date)) as written_off_on
    from account_features as f
    left join account_snapshots as s
        on s.snapshot_date = f.snapshot_date and s.account_id = f.account_id
    where f.snapshot_date <= cast($end_date as date)
        and (f.bucket = 'WO' or s.charge_off_date is not null)
    group by f.account_id
)

select
    s.snapshot_date,
    s.account_id,
    s.customer_id,
    s.currency,
    w.written_off_on,
    s.payment_amount,
{%- if has_placements %}
    (select max(p.agency_id) from agency_placements as p
     where p.account_id = s.account_id and p.placed_night < s.snapshot_date
         and (p.recalled_night is null or p.recalled_night >= s.snapshot_date)) as agency_id
{%- else %}
    cast(null as varchar) as agency_id
{%- endif %}
from account_snapshots as s
inner join written_off as w on w.account_id = s.account_id
where s.snapshot_date between cast($start_date as date) and cast($end_date as date)
    and s.snapshot_date > w.written_off_on
    and s.payment_amount > 0
