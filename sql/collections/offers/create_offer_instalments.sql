-- offer_instalments: an accepted offer's instalments (a settlement has one), followed from the
-- snapshots' payments.
--   offer_id, number: the offer and the instalment (1-based)
--   due_date: accepted_on + first_due_days + (number - 1) x interval_days
--   amount: what falls due (the offer's instalment_amount; the last: last_instalment_amount)
--   paid_amount: payments since acceptance allocated to the instalments in order, up to amount
--   status: due | paid | missed (not paid in full by due_date + grace_days)
--   paid_night: the night it was paid in full
create table if not exists offer_instalments (
    offer_id varchar not null,
    number integer not null,
    due_date date not null,
    amount decimal(18, 2) not null,
    paid_amount decimal(18, 2) not null,
    status varchar not null,
    paid_night date
)
