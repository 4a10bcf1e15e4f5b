-- Landed file versions by outcome.
select status, count(*) as files from ingest_log group by status order by status
