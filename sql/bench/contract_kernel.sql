-- Benchmark kernel: the account_snapshots contract's row rules as hand-written SQL over a table
-- DuckDB already typed while reading (no staging, no text parsing): the floor for contract_sql.
select count(*)
from snapshots
where account_id is null or customer_id is null or product is null or status is null
    or currency is null or credit_limit is null or balance is null or amount_due is null
    or past_due_amount is null or days_past_due is null or payment_amount is null
    or snapshot_date <> $night or open_date > $night or last_payment_date > $night
    or status not in ('open', 'closed', 'frozen', 'charged_off')
    or length(currency) <> 3
    or credit_limit < 0 or balance < 0 or amount_due < 0 or past_due_amount < 0
    or days_past_due < 0 or payment_amount < 0
    or past_due_amount > balance
    or (past_due_amount > 0 and days_past_due < 1)
    or (past_due_amount = 0 and days_past_due > 0)
    or account_id in (select account_id from snapshots group by account_id having count(*) > 1)
