-- utilisation: balance / credit_limit; a 0 limit is unused with no balance (0) and fully drawn
--   with one (1); over-limit (> 1) is kept.
create or replace macro utilisation(balance, credit_limit) as
    cast(coalesce(balance / nullif(credit_limit, 0), sign(balance)) as double)
