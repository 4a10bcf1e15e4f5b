-- The promises the ledger holds.
select count(*) from promises
