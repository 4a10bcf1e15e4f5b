-- Landed file versions by outcome ({{ ingest_log }}: the table, or a split book's merged view).
select status, count(*) as files from {{ ingest_log }} group by status order by status
