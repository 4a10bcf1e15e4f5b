-- The ledger is rebuilt whole for its as-of night (sql/collections/promises.sql).
delete from promises
